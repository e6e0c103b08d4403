"""The steps of the journey that move the appointment (joining the waiting room, leaving it, letting the absent go):
they ask appointments for the move through appointments.sessions, the narrow service meetings may call
(docs/layout.md, "Layers")."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Status
from appointments.sessions import (
    appointment_claimant_arrived,
    appointment_claimant_chose_language,
    appointment_claimant_left,
)
from config.history import stamp
from events.models import EventType
from events.services import events_record, participant_event
from meetings.browsers import Browser
from meetings.models import ADMITTED_ONE_BY_ONE, Participant, Role
from meetings.services.pages import (
    COOKIES_NEEDED,
    JourneyError,
    PageState,
    admitted_one_by_one,
    checks_missing,
    identity_passed,
    identity_required,
    in_waiting_room,
    page_state,
)
from meetings.services.participants import lock_appointment_then


def participant_join(*, participant: Participant, browser: Browser, now: datetime | None = None) -> Participant:
    """Join the waiting room, or the meeting itself when the agent has already started it, from this browser.

    The claimant's joining moves the appointment `scheduled -> waiting` through appointment_update, as the API
    would, with the claimant as the actor in its history. A link with an identity check joins only from the
    browser that passed it; one without is bound to the browser that joins (a later browser takes over).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_appointment_then(participant, "appointment__claimant")
        state = page_state(locked, now, browser)
        if state in (PageState.WAITING, PageState.MEETING):
            return locked
        if state not in (PageState.CHECKS, PageState.ELSEWHERE):
            raise JourneyError(_("This link cannot join now."))
        if checks_missing(locked, browser):
            raise JourneyError(_("Please finish the checks above first."))
        if browser.digest is None:
            raise JourneyError(COOKIES_NEEDED)
        appointment = locked.appointment
        locked.joined_waiting_at = now
        locked.last_seen_at = now
        locked.left_at = None
        changed = ["joined_waiting_at", "last_seen_at", "left_at"]
        taking_over = not browser.holds(locked)
        if taking_over:
            locked.browser_digest = browser.digest
            changed.append("browser_digest")
        events = [participant_event(locked, EventType.PARTICIPANT_JOINED_WAITING_ROOM)]
        if admitted_one_by_one(locked):
            # The agent let in the browser that held the link: one that takes it over (a forwarded link) waits to
            # be let in again. The same browser coming back (a reload, a rejoin after hanging up) stays admitted.
            if taking_over and locked.admitted_at is not None:
                locked.admitted_at, locked.admitted_by = None, None
                changed += ["admitted_at", "admitted_by"]
        elif appointment.status == Status.IN_PROGRESS:
            # The claimant, after the start: the session's start admitted them.
            locked.admitted_at, locked.admitted_by = now, None
            changed += ["admitted_at", "admitted_by"]
            events.append(participant_event(locked, EventType.PARTICIPANT_ADMITTED))
        stamp(locked, locked)
        locked.save(update_fields=changed)
        # In the room first: `waiting` is refused unless the claimant is in the waiting room (the status rule).
        if locked.role == Role.CLAIMANT and appointment.status == Status.SCHEDULED:
            appointment_claimant_arrived(appointment=appointment, actor=locked)
        events_record(appointment=appointment, events=events, actor=locked)
    return locked


def participant_leave(
    *, participant: Participant, browser: Browser | None = None, now: datetime | None = None
) -> Participant:
    """The participant left (closed the page, or its heartbeat stopped): a claimant who was waiting takes the
    appointment back to `scheduled`. A browser the link was taken from leaves nothing: the holder stays."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_appointment_then(participant, "appointment")
        if not in_waiting_room(locked) or (browser is not None and not browser.holds(locked)):
            return locked
        # From their page, they left; otherwise the service let them go (their page went silent): the system's doing,
        # in the appointment's history and the ledger alike.
        who = locked if browser is not None else None
        if locked.role == Role.CLAIMANT and locked.appointment.status == Status.WAITING:
            appointment_claimant_left(appointment=locked.appointment, actor=who)
        locked.left_at = now
        stamp(locked, who)
        locked.save(update_fields=["left_at"])
        left = participant_event(locked, EventType.PARTICIPANT_LEFT)
        events_record(appointment=locked.appointment, events=[left], actor=who)
    return locked


def participants_release_absent(*, now: datetime | None = None) -> list[Participant]:
    """Everyone in a waiting room whose page has not polled for WAITING_ABSENCE_SECONDS has left. Safe to run
    often (the back office's waiting room does, on every refresh; so may cron): each leaves under its row lock."""
    now = now or timezone.now()
    # still_waiting() as a query: before the start, or waiting to be admitted into a session that has started.
    waiting = Q(appointment__status__in=[Status.SCHEDULED, Status.WAITING]) | Q(
        appointment__status=Status.IN_PROGRESS, role__in=ADMITTED_ONE_BY_ONE, admitted_at__isnull=True
    )
    stale = Participant.objects.filter(
        waiting,
        joined_waiting_at__isnull=False,
        left_at__isnull=True,
        revoked_at__isnull=True,
        last_seen_at__lt=now - timedelta(seconds=settings.WAITING_ABSENCE_SECONDS),
    )
    return [participant_leave(participant=p, now=now) for p in stale.only("pk")]


def participant_choose_language(*, participant: Participant, browser: Browser, language: str) -> bool:
    """The claimant chose their page's language with its switch: kept as the claimant's `preferred_language`
    (through the appointment's update, with its history and event), so every later page and message is in it. An
    interpreter's or a guest's choice stays in their browser (meetings.page_language). Returns whether it was kept.

    Kept only from the claimant's own browser: the one that holds the link, past the identity check where the link
    has one. A forwarded link, or a link-preview bot fetching `?lang=cy`, changes only the page it is shown, never
    the language of the claimant's later messages (issue 22 review)."""
    claimant = getattr(participant.appointment, "claimant", None)
    if participant.role != Role.CLAIMANT or claimant is None or claimant.preferred_language == language:
        return False
    if not browser.holds(participant) or (identity_required(participant) and not identity_passed(participant, browser)):
        return False
    try:
        appointment_claimant_chose_language(appointment=participant.appointment, language=language, actor=participant)
    except ValidationError:
        return False  # an appointment that takes no change any more: the browser's cookie keeps the choice
    claimant.preferred_language = language
    return True
