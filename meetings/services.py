"""The meeting of an appointment and its participants: the meeting is created with the appointment and moved
with every reschedule; each participant has a link of their own, a join window, and a journey (device check,
identity check, consent, waiting room, meeting) that their public page walks through."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from appointments.models import FINAL_STATUSES, Outcome, Status
from config.history import history_user, insert_with_history, stamp, update_with_history
from events.models import EventType
from events.services import events_record, participant_event
from meetings.browsers import Browser
from meetings.models import ADMITTED_ONE_BY_ONE, MEETING_ID_MAX, MEETING_ID_MIN, Meeting, Participant, Role

if TYPE_CHECKING:
    from appointments.models import Appointment

_ROOM_ALPHABET = string.ascii_letters + string.digits
_ROOM_PATH_LENGTH = 24  # about 143 bits: a room cannot be found by guessing


def _room_path() -> str:
    return "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(_ROOM_PATH_LENGTH))


def meeting_for(*, appointment: Appointment, actor: Any = None) -> Meeting:
    """Create the appointment's meeting: a random 10-digit id and an unguessable room on VIDEO_BASE_URL.

    An id already taken (rare) raises IntegrityError and spoils the transaction: the caller starts again with a
    new draw (appointment_create runs the whole create again), so no savepoint is spent on every meeting."""
    meeting = Meeting(
        id=MEETING_ID_MIN + secrets.randbelow(MEETING_ID_MAX - MEETING_ID_MIN + 1),
        appointment=appointment,
        room_name=f"Appointment {appointment.reference}",
        room_url=f"{settings.VIDEO_BASE_URL}/{_room_path()}",
        start_date=appointment.appointment_at,
        end_date=appointment.ends_at,
    )
    insert_with_history([meeting], actor)
    return meeting


def meeting_follow_appointment(*, meeting: Meeting, appointment: Appointment, actor: Any = None) -> list[str]:
    """Move the meeting to the appointment's time and length; returns the columns it changed."""
    changed: list[str] = []
    if meeting.start_date != appointment.appointment_at:
        meeting.start_date = appointment.appointment_at
        changed.append("start_date")
    if meeting.end_date != appointment.ends_at:
        meeting.end_date = appointment.ends_at
        changed.append("end_date")
    if changed:
        update_with_history([meeting], changed, actor)
    return changed


# --- participants and their links -------------------------------------------------------------------------------


def participants_for_new_appointment(*, appointment: Appointment, actor: Any = None) -> list[Participant]:
    """The participants every appointment starts with: the agent, the claimant (whose link is the appointment's
    `url`) and, when one is needed, the interpreter."""
    people = [
        Participant(appointment=appointment, role=Role.AGENT, display_name="Agent", user_id=appointment.agent_id),
        # The claimant's name is read from the claimant (display_name), never copied here to go stale.
        Participant(
            appointment=appointment, role=Role.CLAIMANT, display_name="Claimant", token=appointment.public_token
        ),
    ]
    if appointment.is_interpreter_needed:
        people.append(_interpreter(appointment))
    insert_with_history(people, actor, reason=False)
    return people


def participants_follow_agent(*, appointment: Appointment, actor: Any) -> None:
    """The agent's participant is the assigned agent (listed with the participants; the API's representation of
    the appointment itself is unchanged), with its history row saying who it now is (issue 19.3)."""
    moved = [
        participant
        for participant in Participant.objects.filter(appointment=appointment, role=Role.AGENT)
        if participant.user_id != appointment.agent_id
    ]
    for participant in moved:
        participant.user_id = appointment.agent_id
    update_with_history(moved, ["user"], actor)


def _interpreter(appointment: Appointment) -> Participant:
    language = appointment.interpreter_language or ""
    return Participant(appointment=appointment, role=Role.INTERPRETER, display_name=f"Interpreter ({language})".strip())


def participants_follow_appointment(*, appointment: Appointment, actor: Any = None) -> None:
    """Keep the interpreter's link in step with `is_interpreter_needed` (and their name with the language)."""
    live = Participant.objects.filter(appointment=appointment, role=Role.INTERPRETER, revoked_at__isnull=True).first()
    if appointment.is_interpreter_needed and live is None:
        interpreter = _interpreter(appointment)
        stamp(interpreter, actor)
        interpreter.save(force_insert=True)
    elif appointment.is_interpreter_needed and live is not None:
        name = _interpreter(appointment).display_name
        if live.display_name != name:
            live.display_name = name
            stamp(live, actor)
            live.save(update_fields=["display_name"])
    elif live is not None:
        participant_revoke(participant=live, actor=actor)


def participant_invite_guest(*, appointment: Appointment, display_name: str, actor: Any) -> Participant:
    """A guest the agent invites (a third party: a relative, a lawyer), with a link of their own."""
    name = display_name.strip()
    if not name:
        raise ValidationError({"display_name": ["The display name field is required."]})
    if len(name) > 200:
        raise ValidationError({"display_name": ["The display name must not be longer than 200 characters."]})
    if appointment.status in FINAL_STATUSES:
        raise ValidationError({"appointment": ["Guests cannot be invited to an appointment that has ended."]})
    guest = Participant(appointment=appointment, role=Role.GUEST, display_name=name)
    stamp(guest, actor)
    guest.save(force_insert=True)
    return guest


def participant_revoke(*, participant: Participant, actor: Any) -> Participant:
    """Revoke a link at once: it answers 404 from now on (the open page learns it at its next poll). The row
    stays, with what its holder did; someone in the waiting room or the meeting has left it. Under the same locks as
    admitting, so a revoke and an Admit racing each other end revoked and never in the meeting."""
    with transaction.atomic():
        locked = _lock_appointment_then(participant, "appointment")
        if locked.revoked_at is None:
            now = timezone.now()
            locked.revoked_at = now
            changed = ["revoked_at"]
            was_there = _in_waiting_room(locked)
            if was_there:
                locked.left_at = now
                changed.append("left_at")
            stamp(locked, actor)
            locked.save(update_fields=changed)
            if was_there:
                left = participant_event(locked, EventType.PARTICIPANT_LEFT)
                events_record(appointment=locked.appointment, events=[left])
    participant.revoked_at, participant.left_at = locked.revoked_at, locked.left_at
    return locked


def display_name(participant: Participant) -> str:
    """The name others see in the meeting: the claimant's own name, otherwise the participant's."""
    if participant.role == Role.CLAIMANT:
        return participant.appointment.claimant.name
    if participant.role == Role.AGENT and participant.user_id is not None:
        return participant.user.get_full_name() or participant.user.get_username()  # type: ignore[union-attr]
    return participant.display_name


def participant_url(participant: Participant) -> str:
    """Where a participant joins: their own page, or for the agent the back office's meeting page."""
    if participant.role == Role.AGENT:
        return settings.PUBLIC_BASE_URL + reverse(
            "admin:appointments_appointment_meeting", args=[participant.appointment_id]
        )
    return f"{settings.PUBLIC_BASE_URL}/join/{participant.token}"


# --- the join window and what a participant's page shows --------------------------------------------------------


@dataclass(frozen=True)
class JoinWindow:
    """When a participant's link lets them in: from JOIN_OPENS_MINUTES_BEFORE the appointment until its end plus
    JOIN_GRACE_MINUTES. It moves with every reschedule."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now <= self.closes_at


def join_window(appointment: Appointment) -> JoinWindow:
    return JoinWindow(
        opens_at=appointment.appointment_at - timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE),
        closes_at=appointment.ends_at + timedelta(minutes=settings.JOIN_GRACE_MINUTES),
    )


def token_expires_at(appointment: Appointment, now: datetime) -> datetime:
    """Until when a join token minted at `now` lets its holder in: the join window's close, and while the session
    is in progress (a call may run over its time) never sooner than JOIN_GRACE_MINUTES from now, so a participant
    whose connection dropped can rejoin for as long as the call goes on (issue 17.3)."""
    closes = join_window(appointment).closes_at
    if appointment.status == Status.IN_PROGRESS:
        return max(closes, now + timedelta(minutes=settings.JOIN_GRACE_MINUTES))
    return closes


class PageState(StrEnum):
    """What a participant's page shows (docs/decisions.md lists each)."""

    UNAVAILABLE = "unavailable"  # cancelled or a no-show: says so, nothing else
    MISSED = "missed"  # the organisation missed it (the claimant waited): sorry, we will contact you
    COMPLETED = "completed"  # thank you, or the custom post-call redirect
    LOCKED = "locked"  # too many wrong dates of birth, on the link or in this browser: staff must unlock it
    EARLY = "early"  # before the join window: the time, a calendar file, the device check
    CLOSED = "closed"  # the window has passed and the session never started
    CHECKS = "checks"  # inside the window: device check, identity check, consent, then join
    WAITING = "waiting"  # in the waiting room until the agent starts the session
    MEETING = "meeting"  # in the meeting
    ELSEWHERE = "elsewhere"  # another browser holds the link: this one may take over (identity check, or join)


def admitted_one_by_one(participant: Participant) -> bool:
    """An interpreter or a guest: the agent lets each one in, also into a session that has started (issue 17.9)."""
    return participant.role in ADMITTED_ONE_BY_ONE


def waiting_for_admission(participant: Participant) -> bool:
    """In the waiting room on a live link and not let in yet: what the agent's Admit is for. (A claimant waits for
    the session's start instead.)"""
    return (
        admitted_one_by_one(participant)
        and participant.revoked_at is None
        and participant.admitted_at is None
        and _in_waiting_room(participant)
    )


def identity_required(participant: Participant) -> bool:
    return participant.role == Role.CLAIMANT and participant.appointment.claimant.date_of_birth is not None


def consent_required(participant: Participant) -> bool:
    return participant.role != Role.AGENT and participant.appointment.features_call_recording_enable


def identity_passed(participant: Participant, browser: Browser | None = None) -> bool:
    """The identity check was passed: in this browser, which therefore holds the link, when one is given."""
    return participant.identity_checked_at is not None and (browser is None or browser.holds(participant))


def checks_missing(participant: Participant, browser: Browser | None = None) -> list[str]:
    """The checks a participant must still pass before joining, in the order the page asks for them (in this
    browser, when one is given: a browser that does not hold the link is asked who they are again)."""
    missing = []
    if participant.device_checked_at is None:
        missing.append("device")
    if identity_required(participant) and not identity_passed(participant, browser):
        missing.append("identity")
    if consent_required(participant) and participant.recording_consent is None:
        missing.append("consent")
    return missing


def _in_waiting_room(participant: Participant) -> bool:
    return participant.joined_waiting_at is not None and participant.left_at is None


def claimant_in_waiting_room(appointment: Appointment) -> bool:
    """Whether the claimant is in the waiting room now (joined on their own link, not left): what `waiting` means."""
    return Participant.objects.filter(
        appointment_id=appointment.pk,
        role=Role.CLAIMANT,
        revoked_at__isnull=True,
        joined_waiting_at__isnull=False,
        left_at__isnull=True,
    ).exists()


def claimant_appeared_at(appointment: Appointment, window: JoinWindow) -> datetime | None:
    """When the claimant last joined the waiting room (or was admitted) inside `window`, or None if they never
    did: whether they left since, or were let go by the absence check, does not matter (they were there)."""
    times = Participant.objects.filter(appointment_id=appointment.pk, role=Role.CLAIMANT).values_list(
        "joined_waiting_at", "admitted_at"
    )
    inside = [t for row in times for t in row if t is not None and window.opens_at <= t <= window.closes_at]
    return max(inside, default=None)


def still_waiting(participant: Participant) -> bool:
    """In a waiting room whose session has not started, or waiting to be admitted into one that has: someone whose
    absence means they left."""
    status = participant.appointment.status
    return _in_waiting_room(participant) and (
        status in (Status.SCHEDULED, Status.WAITING)
        or (status == Status.IN_PROGRESS and waiting_for_admission(participant))
    )


def page_state(participant: Participant, now: datetime, browser: Browser | None = None) -> PageState:
    """The state of a participant's page; needs only the participant and its appointment (the status poll).

    Given a browser, the state of that browser's page: only the browser holding the link is in the waiting room or
    the meeting, and the link's lock does not reach it (it passed already); a browser locked out by its own wrong
    answers is locked; any other browser is told the appointment was opened elsewhere once a browser holds it.
    Without one, the link's own state (as its holder sees it, the link's lock included).
    """
    appointment = participant.appointment
    if appointment.outcome == Outcome.MISSED_BY_ORGANISATION:
        return PageState.MISSED
    if appointment.status in (Status.CANCELLED, Status.NO_SHOW):
        return PageState.UNAVAILABLE
    if appointment.status == Status.COMPLETED:
        return PageState.COMPLETED
    holder = browser is None or browser.holds(participant)
    if browser is not None and browser.locked_out and not holder:
        return PageState.LOCKED
    if participant.identity_locked_at is not None and (browser is None or not holder):
        return PageState.LOCKED
    window = join_window(appointment)
    if now < window.opens_at:
        return PageState.EARLY
    in_room = holder and _in_waiting_room(participant)
    # An interpreter or a guest goes in only once the agent has let them in (issue 17.9), the claimant with the start.
    let_in = participant.admitted_at is not None or not admitted_one_by_one(participant)
    if appointment.status == Status.IN_PROGRESS and in_room and let_in:
        return PageState.MEETING
    # A session in progress is open to its participants however long it runs (issue 17.3): one whose connection
    # dropped, or who left by mistake, comes back in.
    if now > window.closes_at and appointment.status != Status.IN_PROGRESS:
        return PageState.CLOSED
    if not holder and participant.browser_digest is not None:
        return PageState.ELSEWHERE
    # The claimant's waiting is the appointment's `waiting`: whoever moved it back to scheduled let them go.
    claimant_let_go = participant.role == Role.CLAIMANT and appointment.status != Status.WAITING
    if in_room and not claimant_let_go and (appointment.status != Status.IN_PROGRESS or not let_in):
        return PageState.WAITING
    return PageState.CHECKS


# Why a step is refused in a state that does not allow it.
_REFUSED = {
    PageState.UNAVAILABLE: "This appointment can no longer be joined.",
    PageState.MISSED: "This appointment can no longer be joined.",
    PageState.COMPLETED: "This appointment can no longer be joined.",
    PageState.CLOSED: "The time for this appointment has passed.",
    PageState.LOCKED: "This link is locked after too many attempts. Please contact the organisation.",
    PageState.EARLY: "This step opens with the join window.",
    PageState.ELSEWHERE: "This appointment is open in another browser.",
}
COOKIES_NEEDED = "Please allow cookies for this site: they keep your appointment to this browser."


def page_allows(participant: Participant, browser: Browser | None, now: datetime, *states: PageState) -> PageState:
    """The page's state (in this browser) when it allows a step; otherwise the step is refused with its reason."""
    state = page_state(participant, now, browser)
    if state not in states:
        raise JourneyError(_REFUSED.get(state, "This link cannot do that now."))
    return state


# --- the journey: each step the public page posts ---------------------------------------------------------------


def participant_record_consent(
    *, participant: Participant, consent: bool, browser: Browser | None = None, now: datetime | None = None
) -> Participant:
    """Yes or no to recording; a no turns recording off for the call (the token and the meeting's settings leave
    it out) and the agent sees it. Kept with its time; the first answer stands. Given a browser, the claimant
    answers only once they have confirmed who they are in it: someone holding a forwarded link cannot answer for
    them."""
    if browser is not None:
        page_allows(participant, browser, now or timezone.now(), PageState.CHECKS, PageState.WAITING, PageState.MEETING)
        if identity_required(participant) and not identity_passed(participant, browser):
            raise JourneyError("Please confirm who you are first.")
    if participant.recording_consent is None:
        participant.recording_consent = consent
        participant.recording_consent_at = timezone.now()
        stamp(participant, participant)
        participant.save(update_fields=["recording_consent", "recording_consent_at"])
    return participant


def recording_allowed(appointment: Appointment, participants: Iterable[Participant]) -> bool:
    """Recording is on when the appointment asks for it and the claimant has not said no. An interpreter's or a
    guest's no is the agent's to act on (issue 17.9: shown before admitting them and on the meeting page), never
    applied silently to everyone: a forwarded guest link must not switch off the organisation's record."""
    return appointment.features_call_recording_enable and not any(
        p.recording_consent is False for p in participants if p.revoked_at is None and p.role == Role.CLAIMANT
    )


def recording_declined_by(appointment: Appointment, participants: Iterable[Participant]) -> list[Participant]:
    """The interpreter and guests on live links who said no to the recording, for the agent to see."""
    if not appointment.features_call_recording_enable:
        return []
    return [p for p in participants if admitted_one_by_one(p) and p.revoked_at is None and p.recording_consent is False]


class JourneyError(Exception):
    """A step the page asked for that the participant's state does not allow (shown as the message)."""


def _lock_appointment_then(participant: Participant, related: str) -> Participant:
    """Lock the appointment's row, then the participant's: the order appointment_update and the agent's start
    take them in, so a claimant joining while the agent starts waits instead of deadlocking."""
    from appointments.models import Appointment

    Appointment.objects.select_for_update().filter(pk=participant.appointment_id).values_list("pk").first()
    return Participant.objects.select_for_update(of=("self",)).select_related(related).get(pk=participant.pk)


def participant_join(*, participant: Participant, browser: Browser, now: datetime | None = None) -> Participant:
    """Join the waiting room, or the meeting itself when the agent has already started it, from this browser.

    The claimant's joining moves the appointment `scheduled -> waiting` through appointment_update, as the API
    would, with the claimant as the actor in its history. A link with an identity check joins only from the
    browser that passed it; one without is bound to the browser that joins (a later browser takes over).
    """
    from appointments.services import appointment_update

    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_appointment_then(participant, "appointment__claimant")
        state = page_state(locked, now, browser)
        if state in (PageState.WAITING, PageState.MEETING):
            return locked
        if state not in (PageState.CHECKS, PageState.ELSEWHERE):
            raise JourneyError("This link cannot join now.")
        if checks_missing(locked, browser):
            raise JourneyError("Please finish the checks above first.")
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
            appointment_update(appointment=appointment, data={"status": Status.WAITING}, actor=locked)
        events_record(appointment=appointment, events=events)
    return locked


def participant_seen(*, participant: Participant, now: datetime) -> bool:
    """The page's poll is its heartbeat: one UPDATE, without history, at most every few seconds."""
    if not _in_waiting_room(participant):
        return False
    seen = participant.last_seen_at
    if seen is not None and now - seen < timedelta(seconds=max(1, settings.STATUS_POLL_SECONDS - 1)):
        return False
    Participant.objects.filter(pk=participant.pk).update(last_seen_at=now)
    participant.last_seen_at = now
    return True


def agent_seen(*, appointment: Appointment, now: datetime) -> None:
    """The agent's meeting page is open (rendered, then its heartbeat): like a participant's poll, it keeps a
    session that runs over from being completed as abandoned (issue 17.3). One UPDATE, without history."""
    Participant.objects.filter(appointment_id=appointment.pk, role=Role.AGENT, revoked_at__isnull=True).update(
        last_seen_at=now
    )


def participant_leave(
    *, participant: Participant, browser: Browser | None = None, now: datetime | None = None
) -> Participant:
    """The participant left (closed the page, or its heartbeat stopped): a claimant who was waiting takes the
    appointment back to `scheduled`. A browser the link was taken from leaves nothing: the holder stays."""
    from appointments.services import appointment_update

    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_appointment_then(participant, "appointment")
        if not _in_waiting_room(locked) or (browser is not None and not browser.holds(locked)):
            return locked
        if locked.role == Role.CLAIMANT and locked.appointment.status == Status.WAITING:
            appointment_update(appointment=locked.appointment, data={"status": Status.SCHEDULED}, actor=locked)
        locked.left_at = now
        stamp(locked, locked)
        locked.save(update_fields=["left_at"])
        events_record(appointment=locked.appointment, events=[participant_event(locked, EventType.PARTICIPANT_LEFT)])
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


def _admitter(actor: Any) -> Any:
    """The staff member (or API client's user) who lets someone in; None for a participant or a command."""
    from django.contrib.auth import get_user_model

    user = history_user(actor)
    return user if isinstance(user, get_user_model()) else None


def participants_admit(*, appointment: Appointment, now: datetime, actor: Any) -> list[Participant]:
    """The agent started the session: the claimant, if in the waiting room, is let in (with history, and the
    caller records `participant.admitted`). An interpreter or a guest waiting is not: the agent admits each one
    (participant_admit), since their link may have been forwarded (issue 17.9)."""
    waiting = Participant.objects.filter(
        appointment=appointment,
        role=Role.CLAIMANT,
        revoked_at__isnull=True,
        joined_waiting_at__isnull=False,
        left_at__isnull=True,
        admitted_at__isnull=True,
    )
    people = list(waiting)
    admitter = _admitter(actor)
    for person in people:
        person.admitted_at, person.admitted_by = now, admitter
    update_with_history(people, ["admitted_at", "admitted_by"], actor, reason=False)
    return people


def participant_admit(*, participant: Participant, actor: Any, now: datetime | None = None) -> Participant:
    """The agent lets an interpreter or a guest in from the waiting room (issue 17.9): into the meeting at once
    when the session is running, else as soon as it starts. Written as the claimant's admission is: `admitted_at`
    and `admitted_by` with history (the agent as its user) and a `participant.admitted` event.

    Under the appointment's lock, then the participant's (as joining, leaving and revoking take them): an Admit
    racing a revoke, a leave or other Admits admits once or not at all. Admitting someone already let in changes
    nothing and writes nothing. Refused (ValidationError) for the claimant or the agent, a revoked link, an
    appointment that has ended, and someone not in the waiting room (never came, left, or released as absent)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_appointment_then(participant, "appointment__claimant")
        appointment = locked.appointment
        name = display_name(locked)
        if not admitted_one_by_one(locked):
            raise ValidationError({"participant": ["The claimant is let in by starting the session."]})
        if locked.revoked_at is not None:
            raise ValidationError({"participant": [f"The link of {name} was revoked."]})
        if appointment.status not in (Status.SCHEDULED, Status.WAITING, Status.IN_PROGRESS):
            label = Status(appointment.status).label.lower()
            raise ValidationError({"participant": [f"The appointment is {label}: nobody can be admitted."]})
        if locked.admitted_at is not None:
            return locked
        if not _in_waiting_room(locked):
            raise ValidationError({"participant": [f"{name} is not in the waiting room."]})
        locked.admitted_at, locked.admitted_by = now, _admitter(actor)
        stamp(locked, actor)
        locked.save(update_fields=["admitted_at", "admitted_by"])
        events_record(appointment=appointment, events=[participant_event(locked, EventType.PARTICIPANT_ADMITTED)])
    return locked
