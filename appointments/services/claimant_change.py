"""The claimant's own change of time or cancel, from their page (issue 23.2): the department's rules for them (the
minimum notice to reschedule and to cancel, how many times they may reschedule), the free times they are offered,
and the change itself, which is an ordinary change by a new actor: `change()` under the appointment's lock, as the
API's PATCH and cancel, so the same checks, history, events, webhooks, ledger entry and messages follow.

A reschedule counts when the ledger holds an `appointment.rescheduled` entry whose actor is the claimant (staff's
and the API's moves do not count against them); the ledger is kept whatever the outbox's setting, and is never
rewritten, so the count cannot be lost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.selectors import appointment_locked
from appointments.services.cancel import cancel_request
from appointments.services.shared import CLASH
from appointments.services.update import change
from appointments.slots import FreeTime, free_times, rules_of
from config.actors import Actor
from config.transactions import block
from ledger.models import ActorType, Entry

OFFER_WITHIN = timedelta(days=14)  # how far ahead the page offers times (the department's horizon bounds it too)
OFFERED = 12  # how many times the page offers at once
RESCHEDULED = "appointment.rescheduled"


class Refusal(StrEnum):
    """Why the claimant may not make a change themselves (the page then shows the department's contact details)."""

    STATUS = "status"  # no longer scheduled: cancelled, in the waiting room, over
    NOTICE = "notice"  # inside the department's minimum notice
    LIMIT = "limit"  # the last reschedule the department permits has been made


@dataclass(frozen=True)
class ClaimantRules:
    """What the claimant may do now: None where they may, else why not."""

    reschedule: Refusal | None
    cancel: Refusal | None
    reschedules_left: int
    reschedule_until: datetime  # the last moment the notice allows a reschedule
    cancel_until: datetime


class ClaimantRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


class TimeGone(Exception):
    """The time chosen was taken meanwhile (or is no longer free): nothing changed; `offered`: the next times."""

    def __init__(self, offered: list[FreeTime]) -> None:
        super().__init__("time gone")
        self.offered = offered


def claimant_reschedules(appointment_id: uuid.UUID | str) -> int:
    """How many times the claimant has moved this appointment themselves."""
    return Entry.objects.filter(appointment_id=appointment_id, type=RESCHEDULED, actor_type=ActorType.CLAIMANT).count()


def claimant_rules(appointment: Appointment, now: datetime) -> ClaimantRules:
    rules = rules_of(appointment.department)
    done = claimant_reschedules(appointment.pk)
    left = max(rules.max_claimant_reschedules - done, 0)
    reschedule_until = appointment.appointment_at - timedelta(minutes=rules.notice_to_reschedule_minutes)
    cancel_until = appointment.appointment_at - timedelta(minutes=rules.notice_to_cancel_minutes)
    scheduled = appointment.status == Status.SCHEDULED
    reschedule = (
        Refusal.STATUS
        if not scheduled
        else Refusal.LIMIT
        if left == 0
        else Refusal.NOTICE
        if now > reschedule_until
        else None
    )
    cancel = Refusal.STATUS if not scheduled else Refusal.NOTICE if now > cancel_until else None
    return ClaimantRules(reschedule, cancel, left, reschedule_until, cancel_until)


@dataclass(frozen=True)
class HeldTo:
    """A time the claimant could move into but not move out of themselves: it is already inside the department's
    notice to reschedule (`reschedule`), to cancel (`cancel`), or both. `notice`: the longest of those notices."""

    reschedule: bool
    cancel: bool
    notice: timedelta


def claimant_held_to(appointment: Appointment, start: datetime, now: datetime) -> HeldTo | None:
    """Whether moving to `start` would leave the claimant unable to change or cancel it from their page: the page
    offers times from the notice to book (an hour, say), while the notice to change or cancel is longer (a day).
    The same test as claimant_rules, made for the new time; None when they could still do both."""
    rules = rules_of(appointment.department)
    to_reschedule = timedelta(minutes=rules.notice_to_reschedule_minutes)
    to_cancel = timedelta(minutes=rules.notice_to_cancel_minutes)
    reschedule, cancel = now > start - to_reschedule, now > start - to_cancel
    if not (reschedule or cancel):
        return None
    notice = max(notice for notice, inside in ((to_reschedule, reschedule), (to_cancel, cancel)) if inside)
    return HeldTo(reschedule=reschedule, cancel=cancel, notice=notice)


def claimant_free_times(
    appointment: Appointment, *, now: datetime, any_agent: bool, after: datetime | None = None
) -> list[FreeTime]:
    """The times offered to the claimant from `after` (now): their agent's; with `any_agent`, every agent's of the
    department too, their own agent kept wherever they are free. An unassigned appointment is offered the
    department's times (with the agent the round robin gives each, where its agents have hours)."""
    start = max(after or now, now)
    own = appointment.agent_id

    def times(agent_id: int | None) -> list[FreeTime]:
        return free_times(
            department=appointment.department,
            start=start,
            end=start + OFFER_WITHIN,
            duration=appointment.duration_in_minutes,
            now=now,
            agent_id=agent_id,
            exclude=appointment.pk,
        )

    found = {time.start: time for time in times(own)}
    if any_agent and own is not None:
        for time in times(None):
            found.setdefault(time.start, time)
    offered = [found[moment] for moment in sorted(found) if moment != appointment.appointment_at]
    return offered[:OFFERED]


def appointment_claimant_reschedule(
    *, appointment: Appointment, start: datetime, agent_id: int | None, actor: Actor, now: datetime | None = None
) -> Appointment:
    """Move the appointment to `start` with `agent_id` (its own agent, or another the claimant agreed to), when the
    department's rules let the claimant and that time is still one offered. ClaimantRefused when the rules do not;
    TimeGone, with the next times, when somebody took the time meanwhile (the no-overlap rule, or the constraint
    on PostgreSQL, settles a race)."""
    now = now or timezone.now()
    any_agent = agent_id != appointment.agent_id
    try:
        with block():
            locked = appointment_locked(appointment.pk)
            refusal = claimant_rules(locked, now).reschedule
            if refusal is not None:
                raise ClaimantRefused(refusal)
            free = free_times(
                department=locked.department,
                start=start,
                end=start + timedelta(minutes=1),
                duration=locked.duration_in_minutes,
                now=now,
                agent_id=agent_id,
                exclude=locked.pk,
            )
            if not any(time.start == start and time.agent_id == agent_id for time in free):
                raise TimeGone([])
            data: dict[str, object] = {"appointment_at": start}
            if agent_id != locked.agent_id:
                data["agent_id"] = agent_id
            return change(locked, data, actor, None, now)
    except TimeGone:
        pass
    except ValidationError as exc:
        messages = exc.message_dict.get("agent_id", []) if hasattr(exc, "error_dict") else []
        if not any(message.startswith(CLASH) for message in messages):
            raise
    current = Appointment.objects.select_related("department").get(pk=appointment.pk)
    raise TimeGone(claimant_free_times(current, now=now, any_agent=any_agent, after=start))


def appointment_claimant_cancel(
    *, appointment: Appointment, reason: str | None, actor: Actor, now: datetime | None = None
) -> Appointment:
    """Cancel the appointment with an optional reason, when the department's notice to cancel allows the claimant;
    ClaimantRefused otherwise."""
    now = now or timezone.now()
    with block():
        locked = appointment_locked(appointment.pk)
        refusal = claimant_rules(locked, now).cancel
        if refusal is not None:
            raise ClaimantRefused(refusal)
        return change(locked, cancel_request(locked, reason or None), actor, None, now)
