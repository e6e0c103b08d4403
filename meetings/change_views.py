"""The claimant's "Change or cancel" page (issue 23.2): `/join/<token>/change`, behind the same guard as the rest of
their page (rate limit per address, one plain 404, no referrer, CSRF on every POST) and after the identity check in
this browser (else back to the page, where it is asked). Plain HTML forms, no script: choose a time, confirm it; or
cancel with an optional reason, confirmed. Every change goes through appointments.sessions (the department's rules
for the claimant, then the change as the API's); the link stays the same.

Inside the minimum notice, after the last permitted reschedule, or once the appointment is no longer scheduled, the
page says so and shows the department's contact details instead of the forms. A time somebody took meanwhile is
refused with the next times offered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from appointments.models import Appointment
from appointments.services import (
    ClaimantRefused,
    HeldTo,
    Refusal,
    TimeGone,
    claimant_free_times,
    claimant_held_to,
    claimant_rules,
)
from appointments.sessions import appointment_claimant_cancelled, appointment_claimant_move
from appointments.slots import FreeTime
from config.local_time import local_words
from meetings.browsers import Browser, browser_digest, new_browser_key
from meetings.identity import IdentityOutcome, date_of_birth_entered, locked_words, participant_check_identity
from meetings.models import Participant, Role
from meetings.page_language import keep_browser_choice, language_switch, participant_language
from meetings.services import COOKIES_NEEDED, JourneyError, identity_passed, identity_required
from meetings.views import _browser_key, _keep_browser_key, _participant, public

REASON_LENGTH = 500


def _refusal_words(refusal: Refusal | None, *, cancel: bool, appointment: Appointment) -> str:
    if refusal is None:
        return ""
    name = appointment.department.shown_name
    if refusal == Refusal.STATUS:
        return _("This appointment can no longer be changed here. Please contact %(department)s.") % {
            "department": name
        }
    if refusal == Refusal.LIMIT:
        return _(
            "You have already changed the time as many times as %(department)s allows. To change it again, please "
            "contact them."
        ) % {"department": name}
    if cancel:
        return _("It is too close to your appointment to cancel it here. Please contact %(department)s.") % {
            "department": name
        }
    return _("It is too close to your appointment to change its time here. Please contact %(department)s.") % {
        "department": name
    }


def _notice_words(notice: timedelta) -> str:
    minutes = int(notice.total_seconds()) // 60
    if minutes % 60 == 0:
        return ngettext("%(count)d hour", "%(count)d hours", minutes // 60) % {"count": minutes // 60}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _held_to_words(held: HeldTo | None, appointment: Appointment) -> str:
    """Said before the claimant confirms a time they could not change or cancel themselves afterwards."""
    if held is None:
        return ""
    if held.reschedule and held.cancel:
        text = _(
            "You will not be able to change or cancel this time yourself: it is less than %(notice)s away. "
            "To change it later, contact %(department)s."
        )
    elif held.reschedule:
        text = _(
            "You will not be able to change this time yourself: it is less than %(notice)s away. To change it "
            "later, contact %(department)s."
        )
    else:
        text = _(
            "You will not be able to cancel this time yourself: it is less than %(notice)s away. To cancel it "
            "later, contact %(department)s."
        )
    return text % {"notice": _notice_words(held.notice), "department": appointment.department.shown_name}


def _offer(time: FreeTime, appointment: Appointment, language: str) -> dict[str, Any]:
    return {
        "value": f"{time.start.isoformat()}|{time.agent_id or ''}",
        "words": local_words(time.start, appointment.zone, language),
        "other_agent": time.agent_id != appointment.agent_id,
        "start": time.start,
    }


def _chosen(value: str) -> tuple[datetime, int | None] | None:
    """A time as the form posts it (`<start>|<agent>`), or None when it is not one."""
    start_text, _bar, agent_text = value.partition("|")
    start = parse_datetime(start_text) if len(start_text) <= 40 else None
    if start is None or start.tzinfo is None or not (agent_text == "" or agent_text.isdigit()):
        return None
    return start, int(agent_text) if agent_text else None


def _context(
    request: HttpRequest, participant: Participant, *, any_agent: bool, after: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    appointment = participant.appointment
    now = timezone.now()
    language = translation.get_language() or "en"
    rules = claimant_rules(appointment, now)
    context: dict[str, Any] = {
        "participant": participant,
        "appointment": appointment,
        "languages": language_switch(),
        "contact": appointment.department.contact,
        "when": local_words(appointment.appointment_at, appointment.zone, language),
        "rules": rules,
        "reschedule_refused": _refusal_words(rules.reschedule, cancel=False, appointment=appointment),
        "cancel_refused": _refusal_words(rules.cancel, cancel=True, appointment=appointment),
        "any_agent": any_agent,
        "has_agent": appointment.agent_id is not None,
        "step": "choose",
        "reason_length": REASON_LENGTH,
        **extra,
    }
    if rules.reschedule is None and "offers" not in extra:
        offers = claimant_free_times(appointment, now=now, any_agent=any_agent, after=after)
        context["offers"] = [_offer(time, appointment, language) for time in offers]
        if offers:
            context["later"] = offers[-1].start.isoformat()
    return context


def _after(focus: str = "", say: str = "", done: str = "") -> dict[str, Any]:
    """What the step just posted did, for the page's script (static/meetings/join.js, `stepFinished`): the element
    focused (by id; blank, the page's heading), and what its live region says (the text of the element `say`
    names, else a result the script names `done`, else the focused element's text)."""
    return {"step_focus": focus, "step_say": say, "step_done": done}


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponseBase:
    return render(request, "meetings/change.html", context, status=status)


def _claimant(request: HttpRequest, token: str) -> tuple[Participant, Browser]:
    participant, browser = _participant(request, token, "appointment__department", "appointment__claimant")
    if participant.role != Role.CLAIMANT:
        raise Http404
    translation.activate(participant_language(request, participant))
    return participant, browser


def _identity_page(request: HttpRequest, participant: Participant, status: int = 200, **extra: Any) -> HttpResponseBase:
    appointment = participant.appointment
    context = {
        "participant": participant,
        "appointment": appointment,
        "languages": language_switch(),
        "contact": appointment.department.contact,
        "when": local_words(appointment.appointment_at, appointment.zone, translation.get_language() or "en"),
        "step": "identity",
        **extra,
    }
    response = _page(request, context, status)
    if not _browser_key(request, participant.token):
        _keep_browser_key(response, request, participant, new_browser_key())  # the check counts tries per browser
    return response


def _identity(request: HttpRequest, participant: Participant, browser: Browser) -> HttpResponseBase:
    """The identity check from this page's own form (no script): passed, this browser holds the link and the page
    shows its choices; otherwise the page says what went wrong, as the claimant's page does."""
    if browser.digest is None:
        return _identity_page(request, participant, 400, error=str(COOKIES_NEEDED), **_after("identity-error"))
    fields = {name: request.POST.get(name, "") for name in ("day", "month", "year")}
    try:
        born = date_of_birth_entered(fields)
        answer = participant_check_identity(
            participant=participant, browser=browser, date_of_birth=born, before_window=True
        )
    except ValidationError as exc:
        return _identity_page(
            request, participant, 422, error=exc.messages[0], entered=fields, **_after("dob-day", "identity-error")
        )
    except JourneyError as exc:
        return _identity_page(request, participant, 409, error=str(exc), **_after("identity-error"))
    if answer.outcome == IdentityOutcome.PASSED:
        response = HttpResponseRedirect(reverse("join-change", args=[participant.token]) + "?done=identity")
        if answer.browser_key:
            keep_browser_choice(request, participant, Browser(digest=browser_digest(answer.browser_key)))
            _keep_browser_key(response, request, participant, answer.browser_key)
        return response
    if answer.outcome in (IdentityOutcome.LOCKED, IdentityOutcome.BROWSER_LOCKED):
        error = locked_words(participant, answer.outcome)
        return _identity_page(request, participant, 423, error=error, locked=True, **_after("identity-error"))
    left = answer.tries_left
    message = ngettext(
        "That date of birth does not match our records. %(left)d try left.",
        "That date of birth does not match our records. %(left)d tries left.",
        left,
    ) % {"left": left}
    return _identity_page(request, participant, 422, error=message, **_after("dob-day", "identity-error"))


def _forms_post(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """This page posts plain HTML forms: under `no-referrer` a browser sends them with `Origin: null`, which Django's
    CSRF check refuses. `same-origin` sends the origin (and the address, with its token) to this service alone, as
    the agent's meeting page does; no other site ever gets it."""

    @wraps(view)
    def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        return response

    return answered


@_forms_post
@public
@require_http_methods(["GET", "POST"])
def change_page(request: HttpRequest, token: str) -> HttpResponseBase:
    participant, browser = _claimant(request, token)
    if request.method == "POST" and request.POST.get("action") == "identity":
        return _identity(request, participant, browser)
    if identity_required(participant) and not identity_passed(participant, browser):
        return _identity_page(request, participant)
    if request.method == "GET":
        after = parse_datetime(request.GET.get("after", "")[:40]) if request.GET.get("after") else None
        any_agent = request.GET.get("any_agent") == "1"
        after = after if after and after.tzinfo else None
        passed = _after(done="identity-form") if request.GET.get("done") == "identity" else {}
        return _page(request, _context(request, participant, any_agent=any_agent, after=after, **passed))
    action = request.POST.get("action", "")
    any_agent = request.POST.get("any_agent") == "1"
    if action in ("choose", "reschedule"):
        chosen = _chosen(request.POST.get("time", ""))
        if chosen is None:
            error = _("Choose a new time.")
            context = _context(request, participant, any_agent=any_agent, error=error, **_after("time-1", "time-error"))
            return _page(request, context, 422)
        if action == "choose":
            return _page(request, _context(request, participant, any_agent=any_agent, **_confirm(participant, chosen)))
        return _reschedule(request, participant, chosen, any_agent)
    if action in ("cancel_check", "cancel"):
        reason = request.POST.get("reason", "").strip()
        if len(reason) > REASON_LENGTH:
            error = _("The reason must be %(count)d characters or fewer.") % {"count": REASON_LENGTH}
            shown = _after("reason", "reason-error")
            context = _context(request, participant, any_agent=False, cancel_error=error, reason=reason, **shown)
            return _page(request, context, 422)
        if action == "cancel_check":
            shown = _after(say="confirm-cancel-heading")
            context = _context(
                request, participant, any_agent=False, offers=[], step="confirm_cancel", reason=reason, **shown
            )
            return _page(request, context)
        return _cancel(request, participant, reason)
    return _page(request, _context(request, participant, any_agent=any_agent), 400)


def _confirm(participant: Participant, chosen: tuple[datetime, int | None]) -> dict[str, Any]:
    start, agent = chosen
    appointment = participant.appointment
    words = local_words(start, appointment.zone, translation.get_language() or "en")
    value = f"{start.isoformat()}|{agent or ''}"
    held = _held_to_words(claimant_held_to(appointment, start, timezone.now()), appointment)
    return {
        "offers": [],
        "step": "confirm",
        "chosen": {"value": value, "words": words, "other_agent": agent != appointment.agent_id, "held_to": held},
        **_after(say="held-to" if held else "chosen-time"),
    }


def _reschedule(
    request: HttpRequest, participant: Participant, chosen: tuple[datetime, int | None], any_agent: bool
) -> HttpResponseBase:
    start, agent = chosen
    try:
        moved = appointment_claimant_move(
            appointment=participant.appointment, start=start, agent_id=agent, actor=participant
        )
    except ClaimantRefused:
        participant.appointment.refresh_from_db()
        return _page(request, _context(request, participant, any_agent=any_agent, **_after("reschedule-refused")), 409)
    except TimeGone as gone:
        language = translation.get_language() or "en"
        offers = [_offer(time, participant.appointment, language) for time in gone.offered]
        later = gone.offered[-1].start.isoformat() if gone.offered else None
        shown = _after("time-gone")
        context = _context(request, participant, any_agent=any_agent, offers=offers, gone=True, later=later, **shown)
        return _page(request, context, 409)
    participant.appointment = moved
    shown = _after(say="moved-result")
    return _page(request, _context(request, participant, any_agent=False, offers=[], step="moved", **shown))


def _cancel(request: HttpRequest, participant: Participant, reason: str) -> HttpResponseBase:
    try:
        cancelled = appointment_claimant_cancelled(
            appointment=participant.appointment, reason=reason, actor=participant
        )
    except ClaimantRefused:
        participant.appointment.refresh_from_db()
        return _page(request, _context(request, participant, any_agent=False, **_after("cancel-refused")), 409)
    participant.appointment = cancelled
    shown = _after(say="cancelled-result")
    return _page(request, _context(request, participant, any_agent=False, offers=[], step="cancelled", **shown))
