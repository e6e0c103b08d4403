"""What a participant's page shows (page_state) and asks of them first, and the steps it
posts that leave the appointment as it is (consent, its heartbeat)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.join_window import JoinWindow, join_window
from appointments.models import Appointment, Outcome, Status
from config.history import stamp
from config.writes import update_columns
from ledger.services import Happening, about, lock_appointment, record
from meetings.browsers import Browser
from meetings.models import ADMITTED_ONE_BY_ONE, Participant, Role


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
        and in_waiting_room(participant)
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


def in_waiting_room(participant: Participant) -> bool:
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
    return in_waiting_room(participant) and (
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
    in_room = holder and in_waiting_room(participant)
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
    PageState.UNAVAILABLE: _("This appointment can no longer be joined."),
    PageState.MISSED: _("This appointment can no longer be joined."),
    PageState.COMPLETED: _("This appointment can no longer be joined."),
    PageState.CLOSED: _("The time for this appointment has passed."),
    PageState.LOCKED: _("This link is locked after too many attempts. Please contact the organisation."),
    PageState.EARLY: _("This step opens with the join window."),
    PageState.ELSEWHERE: _("This appointment is open in another browser."),
}
COOKIES_NEEDED = _("Please allow cookies for this site: they keep your appointment to this browser.")


def page_allows(participant: Participant, browser: Browser | None, now: datetime, *states: PageState) -> PageState:
    """The page's state (in this browser) when it allows a step; otherwise the step is refused with its reason."""
    state = page_state(participant, now, browser)
    if state not in states:
        raise JourneyError(_REFUSED.get(state, _("This link cannot do that now.")))
    return state


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
            raise JourneyError(_("Please confirm who you are first."))
    if participant.recording_consent is not None:
        return participant
    with transaction.atomic():
        lock_appointment(participant.appointment_id)  # one answer at a time, and the ledger's entry under it
        answered = Participant.objects.filter(pk=participant.pk).values_list("recording_consent", flat=True).get()
        if answered is not None:  # another request answered first: the first answer stands
            participant.recording_consent = answered
            return participant
        participant.recording_consent = consent
        participant.recording_consent_at = timezone.now()
        stamp(participant, participant)
        participant.save(update_fields=["recording_consent", "recording_consent_at"])
        kind = "consent.given" if consent else "consent.refused"
        record(participant.appointment_id, [Happening(kind, about(participant))], actor=participant)
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


def heartbeat_every() -> timedelta:
    """How old the stored heartbeat grows before a poll writes it again: a third of WAITING_ABSENCE_SECONDS (20 s of
    60). Every rule that reads it asks for a silence of the whole window (the absence check, the waiting room's and
    the live pages' "still here", through `left_at`) or longer (an abandoned session: minutes), so a page polling
    every STATUS_POLL_SECONDS is always seen well inside it, and one whose next two polls fail (its page then waits
    10 s and 20 s: 35 s silent) still is, as when every poll wrote (docs/decisions.md, poll26)."""
    return timedelta(seconds=max(1, settings.WAITING_ABSENCE_SECONDS // 3))


def participant_seen(*, participant: Participant, now: datetime) -> bool:
    """The page's poll is its heartbeat: one UPDATE, without history, once the stored one is `heartbeat_every()`
    old (a poll in between writes nothing). Its commit does not wait for the disk (config.writes.update_columns,
    durable=False): a heartbeat lost in a crash of the database server is written again by a later poll, and the
    absence check allows WAITING_ABSENCE_SECONDS."""
    if not in_waiting_room(participant):
        return False
    seen = participant.last_seen_at
    if seen is not None and now - seen < heartbeat_every():
        return False
    participant.last_seen_at = now
    update_columns(participant, ["last_seen_at"], durable=False)
    return True


def agent_seen(*, appointment: Appointment, now: datetime) -> None:
    """The agent's meeting page is open (rendered, then its heartbeat): like a participant's poll, it keeps a
    session that runs over from being completed as abandoned (issue 17.3). One UPDATE, without history."""
    Participant.objects.filter(appointment_id=appointment.pk, role=Role.AGENT, revoked_at__isnull=True).update(
        last_seen_at=now
    )
