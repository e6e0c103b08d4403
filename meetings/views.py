"""The participants' public pages: `/join/<token>` and what it polls and posts.

These are the service's only pages without a sign-in, so each request is limited per address, a token that is
unknown, malformed or revoked gets the same plain 404, nothing is cached or indexed, no referrer leaves (the token
is in the path), and every POST carries the CSRF token. A page shows only its own appointment.

Each browser that opens a link gets a random key in a cookie for that link (meetings.browsers): signed with the
link in its salt, HttpOnly, SameSite=Lax (the link clicked in an email still carries it), Secure under HTTPS,
scoped to the link's path. It alone joins nothing: the link is needed too, and only the browser that passed the
identity check (or joined, on a link without one) holds the link. Neither the key nor the token is ever logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from appointments.models import Status, organisation_contact
from config.api.http import representation_etag
from config.local_time import local_clock, local_words
from config.middleware import lean
from config.net import client_address, over_limit
from meetings.browsers import Browser, browser_digest, browser_of, new_browser_key, participants_seen_by
from meetings.calendar import calendar_sequence, invitation
from meetings.call_check import test_call_context
from meetings.devices import device_states
from meetings.identity import IdentityOutcome, date_of_birth_entered, locked_words, participant_check_identity
from meetings.models import Participant, Role
from meetings.page_language import (
    chosen_now,
    keep_browser_choice,
    language_switch,
    participant_language,
    remember_language,
    request_language,
    role_words,
    use_language,
)
from meetings.selectors import participant_of_link
from meetings.services import (
    COOKIES_NEEDED,
    JourneyError,
    PageState,
    admitted_one_by_one,
    checks_missing,
    consent_required,
    display_name,
    identity_passed,
    identity_required,
    join_window,
    page_state,
    participant_record_consent,
    participant_seen,
    participant_url,
    recording_allowed,
)
from meetings.services.journey import participant_choose_language, participant_join, participant_leave
from meetings.video import embedding_headers, iframe_options
from meetings.waiting import waiting_page, waiting_poll

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_BROWSER_COOKIE = "join_browser"
_BROWSER_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")
# The browser's cookie outlives the join window by a day (refreshed by every page load, so a reschedule moves it).
_BROWSER_COOKIE_AFTER_WINDOW = timedelta(days=1)
_MAX_BODY = 2048


class _RateLimited(Exception):
    pass


def _plain(request: HttpRequest, template: str, status: int) -> HttpResponse:
    # No appointment is known here: the organisation's own contact details, never a department's.
    context = {
        "poll_seconds": settings.STATUS_POLL_SECONDS,
        "contact": organisation_contact(),
        "languages": language_switch(),
    }
    return render(request, template, context, status=status)


def public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The public pages' guard: rate limit per address, one plain 404, and headers that keep the page and its
    token to the participant."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The page's language: the browser's here, the participant's once the view knows them (meetings.page_language).
        with translation.override(request_language(request)):
            try:
                if over_limit(f"join:{client_address(request)}", settings.PUBLIC_PAGE_RATE_PER_MINUTE):
                    raise _RateLimited
                response = view(request, *args, **kwargs)
            except Http404:
                translation.activate(request_language(request))
                response = _plain(request, "meetings/not_found.html", 404)
            except _RateLimited:
                response = _plain(request, "meetings/too_many.html", 429)
                response["Retry-After"] = "60"
            remember_language(response, request)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return embedding_headers(response)

    return guarded


def _browser_key(request: HttpRequest, token: str) -> str | None:
    """The key in this browser's cookie for this link, if the cookie is there and signed for this link."""
    try:
        key = request.get_signed_cookie(_BROWSER_COOKIE, salt=token)
    except (KeyError, signing.BadSignature):
        return None
    return key if isinstance(key, str) and _BROWSER_KEY.match(key) else None


def _keep_browser_key(response: HttpResponseBase, request: HttpRequest, participant: Participant, key: str) -> None:
    closes = join_window(participant.appointment).closes_at
    max_age = max(closes - timezone.now(), timedelta(0)) + _BROWSER_COOKIE_AFTER_WINDOW
    response.set_signed_cookie(
        _BROWSER_COOKIE,
        key,
        salt=participant.token,
        max_age=int(max_age.total_seconds()),
        path=f"/join/{participant.token}",
        secure=request.is_secure() or settings.HTTPS,
        httponly=True,
        samesite="Lax",
    )


def _participant(request: HttpRequest, token: str, *related: str) -> tuple[Participant, Browser]:
    """The live participant of this link, and the browser asking (with its lock-out, in the same query)."""
    if not _TOKEN.match(token):
        raise Http404
    key = _browser_key(request, token)
    digest = browser_digest(key) if key else None
    if not related:  # the poll's: one query compiled once
        found = participant_of_link(token, digest)
        if found is None:
            raise Http404
        return found, browser_of(found, digest)
    try:
        participant = (
            participants_seen_by(digest)
            .select_related("appointment", *related)
            .get(token=token, revoked_at__isnull=True)
        )
    except Participant.DoesNotExist:
        raise Http404 from None
    return participant, browser_of(participant, digest)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = request.body
    except BadRequest as exc:  # cut short (config.middleware.IncompleteBody)
        raise ValidationError({"body": [str(exc)]}) from None
    except RawPostDataException:  # a form the CSRF check already read as a form: not the JSON the page posts
        raise ValidationError({"body": [_("The request body is not valid JSON.")]}) from None
    if len(body) > _MAX_BODY:
        raise ValidationError({"body": [_("The request body is too large.")]})
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": [_("The request body is not valid JSON.")]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("The request body must be a JSON object.")]})
    return data


def _error(message: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"message": message, **extra}, status=status)


def _state_response(participant: Participant, browser: Browser) -> JsonResponse:
    return JsonResponse({"state": page_state(participant, timezone.now(), browser)})


def _posted(step: Callable[[HttpRequest, Participant, Browser], JsonResponse]) -> Callable[..., HttpResponseBase]:
    """A journey step the page posts as JSON: bad input is a 400/422 with a message and changes nothing; a browser
    without its cookie for the link (cookies blocked) is told so and changes nothing."""

    @public
    @require_POST
    @wraps(step)
    def view(request: HttpRequest, token: str) -> HttpResponseBase:
        participant, browser = _participant(request, token, "appointment__claimant", "appointment__department")
        use_language(request, participant_language(request, participant))
        if browser.digest is None:
            return _error(str(COOKIES_NEEDED), 400)
        try:
            return step(request, participant, browser)
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
            first = next(iter(messages.values()))[0]
            return _error(first, 422 if "body" not in messages else 400, errors=messages)
        except JourneyError as exc:
            return _error(str(exc), 409)

    return view


# --- the page ---------------------------------------------------------------------------------------------------


@public
@require_safe  # HEAD too: link checkers (a mail client's, a chat's preview) ask it first; it reads, writes nothing
def join_page(request: HttpRequest, token: str) -> HttpResponseBase:
    participant, browser = _participant(
        request, token, "appointment__department", "appointment__claimant", "appointment__meeting", "appointment__agent"
    )
    language = chosen_now(request)
    if language:  # the claimant's switch: kept for their later pages and messages, from their own browser only
        participant_choose_language(participant=participant, browser=browser, language=language)
    use_language(request, participant_language(request, participant))
    appointment = participant.appointment
    now = timezone.now()
    state = page_state(participant, now, browser)
    if state == PageState.COMPLETED:
        redirect = _post_call_redirect(participant)
        if redirect:
            return HttpResponseRedirect(redirect)
    in_progress = appointment.status == Status.IN_PROGRESS
    # An interpreter or a guest waits for the agent to let them in, also once the session has started (issue 17.9).
    one_by_one = admitted_one_by_one(participant)
    admitted = participant.admitted_at is not None and browser.holds(participant)
    context: dict[str, Any] = {
        "participant": participant,
        "appointment": appointment,
        "state": state,
        "poll_seconds": settings.STATUS_POLL_SECONDS,
        "missing": checks_missing(participant, browser),
        "device": device_states(participant),
        "test_call": test_call_context(participant),
        "identity_required": identity_required(participant),
        "locked_here": state == PageState.LOCKED and participant.identity_locked_at is None,
        "locked_words": locked_words(participant) if state == PageState.LOCKED else "",
        "consent_required": consent_required(participant),
        "in_progress": in_progress,
        "admitted_one_by_one": one_by_one,
        "admitted": admitted,
        "straight_in": in_progress and (admitted or not one_by_one),
        "is_claimant": participant.role == Role.CLAIMANT,
        "role_label": role_words(participant),
        "languages": language_switch(welsh_first=appointment.department.bilingual),
        # In the department's zone and the page's language (config/local_time.py), never the browser's locale.
        "when": local_words(appointment.appointment_at, appointment.zone, translation.get_language()),
        "opens": local_clock(join_window(appointment).opens_at, appointment.zone),
    }
    if identity_passed(participant, browser) or not identity_required(participant):
        context["name"] = display_name(participant)  # nothing personal before the identity check, in this browser
    # Issue 23.2: the claimant's own change of time or cancel (meetings/change_views.py asks who they are first).
    context["may_change"] = participant.role == Role.CLAIMANT and state in (PageState.EARLY, PageState.CHECKS)
    if state == PageState.WAITING:
        context["waiting"] = waiting_page(participant, now)
    if state == PageState.MEETING:
        everyone = list(appointment.participants.all())
        context["meeting"] = iframe_options(participant, recording=recording_allowed(appointment, everyone), now=now)
        context["video_script"] = f"{settings.VIDEO_BASE_URL}/external_api.js"
    response = render(request, "meetings/join.html", context)
    _keep_browser_key(response, request, participant, _browser_key(request, token) or new_browser_key())
    return response


def _post_call_redirect(participant: Participant) -> str | None:
    appointment = participant.appointment
    if appointment.use_custom_post_call_redirect and participant.role != Role.AGENT:
        return appointment.custom_user_post_call_redirect_url
    return None


@lean
@public
@require_GET
def join_status(request: HttpRequest, token: str) -> HttpResponseBase:
    """What the page polls: its state in a few bytes, 304 while nothing changed; the poll is the heartbeat too.
    One query to read, one more at most to note the participant is still there."""
    participant, browser = _participant(request, token)
    now = timezone.now()
    appointment = participant.appointment
    body = {
        "state": page_state(participant, now, browser),
        "status": appointment.status,
        "appointment_at": appointment.appointment_at.isoformat(),
        "duration_in_minutes": appointment.duration_in_minutes,
    }
    if body["state"] == PageState.WAITING:
        body.update(waiting_poll(participant, request))  # only keys that are set
    if browser.holds(participant) or participant.browser_digest is None:
        participant_seen(participant=participant, now=now)  # the page of a browser the link was taken from is no sign
    etag = representation_etag(body)
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(body)
    response["ETag"] = etag
    return response


@public
@require_GET
def calendar_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """The appointment as an iCalendar file, to add to the participant's own calendar."""
    participant, _browser = _participant(request, token, "appointment__department", "appointment__claimant")
    use_language(request, participant_language(request, participant))
    appointment = participant.appointment
    if appointment.status in (Status.CANCELLED, Status.NO_SHOW):
        raise Http404
    ical = invitation(
        appointment_id=appointment.pk,
        start=appointment.appointment_at,
        minutes=appointment.duration_in_minutes,
        title=_("Video appointment with %(department)s") % {"department": appointment.department.shown_name},
        link=participant_url(participant),
        organizer=str(appointment.department.shown_name),
        sequence=calendar_sequence(appointment.pk),
        stamp=timezone.now(),
    )
    response = HttpResponse(ical, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


# --- the steps the page posts (the device check's: meetings/device_views.py) -------------------------------------


_LOCKED_ANSWERS = {
    IdentityOutcome.LOCKED: gettext_lazy(
        "This link is locked after too many attempts. Please contact the organisation."
    ),
    IdentityOutcome.BROWSER_LOCKED: gettext_lazy(
        "This link is locked in this browser after too many attempts. Please contact the organisation."
    ),
}


@_posted
def identity_check(request: HttpRequest, participant: Participant, browser: Browser) -> JsonResponse:
    born = date_of_birth_entered(_json_body(request))
    answer = participant_check_identity(participant=participant, browser=browser, date_of_birth=born)
    if answer.outcome == IdentityOutcome.PASSED:
        if not answer.browser_key:
            return _state_response(participant, browser)
        held = Browser(digest=browser_digest(answer.browser_key))
        keep_browser_choice(request, participant, held)
        response = _state_response(participant, held)
        _keep_browser_key(response, request, participant, answer.browser_key)
        return response
    if answer.outcome in _LOCKED_ANSWERS:
        return _error(str(_LOCKED_ANSWERS[answer.outcome]), 423)
    left = answer.tries_left
    message = ngettext(
        "That date of birth does not match our records. %(left)d try left.",
        "That date of birth does not match our records. %(left)d tries left.",
        left,
    ) % {"left": left}
    return _error(message, 422, errors={"date_of_birth": [message]}, tries_left=left)


@_posted
def consent(request: HttpRequest, participant: Participant, browser: Browser) -> JsonResponse:
    if not consent_required(participant):
        raise JourneyError(_("This meeting is not recorded."))
    answer = _json_body(request).get("consent")
    if not isinstance(answer, bool):
        raise ValidationError({"consent": [_("Choose yes or no.")]})
    participant_record_consent(participant=participant, consent=answer, browser=browser)
    return _state_response(participant, browser)


@_posted
def join(request: HttpRequest, participant: Participant, browser: Browser) -> JsonResponse:
    participant_join(participant=participant, browser=browser)
    participant.refresh_from_db()
    return _state_response(participant, browser)


@_posted
def leave(request: HttpRequest, participant: Participant, browser: Browser) -> JsonResponse:
    participant_leave(participant=participant, browser=browser)
    participant.refresh_from_db()
    return _state_response(participant, browser)
