"""What the appointment services share: the types of a planned change, labels, and the agent's clash."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from appointments.availability import MAX_BUFFER
from appointments.local_time import local_label, local_span
from appointments.models import (
    LIVE_STATUSES,
    MAX_DURATION,
    Appointment,
    Department,
)
from appointments.slots import next_free_times
from claimants.services import (
    Errors,
)

Precondition = Callable[[Appointment], None]
# What a check returns: the columns it would write and the errors it found, keyed by request field.
Planned = tuple[dict[str, Any], Errors]


def label(name: str) -> str:
    return name.replace("_", " ")


def status_label(status: str) -> str:
    return status.replace("_", " ")


AGENT_OVERLAP_CONSTRAINT = "appointment_agent_no_overlap"


# The columns that hold the department's buffers as an assigned appointment was booked with (issue 23.3).
BUFFER_FIELDS = ("buffer_before_minutes", "buffer_after_minutes")
CLASH = "The agent already has"  # how every refusal of an agent's overlap begins (the offer of other times follows)


def agent_clash(
    *, agent_id: int, start: datetime, end: datetime, exclude: uuid.UUID, before: int = 0, after: int = 0
) -> Appointment | None:
    """The agent's live appointment whose time with its buffers meets [start - before, end + after), if any
    (durations and buffers are bounded, so one indexed range read finds every candidate)."""
    low, high = start - timedelta(minutes=before), end + timedelta(minutes=after)
    candidates = Appointment.objects.filter(
        agent_id=agent_id,
        status__in=LIVE_STATUSES,
        appointment_at__lt=high + timedelta(minutes=MAX_BUFFER),
        appointment_at__gt=low - timedelta(minutes=MAX_DURATION + MAX_BUFFER),
    ).exclude(pk=exclude)
    columns = ("pk", "reference", "appointment_at", "duration_in_minutes", *BUFFER_FIELDS)
    for other in candidates.order_by("appointment_at").only(*columns):
        taken_from = other.appointment_at - timedelta(minutes=other.buffer_before_minutes)
        taken_until = other.ends_at + timedelta(minutes=other.buffer_after_minutes)
        if taken_from < high and taken_until > low:
            return other
    return None


def clash_message(other: Appointment, zone: ZoneInfo, before: int = 0, after: int = 0) -> str:
    """The clash, in the zone of the appointment being booked or changed (the one its author is reading): the API
    and the back office give the same text."""
    span = local_span(other.appointment_at, other.ends_at, zone)
    gap = f" (with the department's buffers: {before} minutes before, {after} after)" if before or after else ""
    return f"{CLASH} appointment {other.reference}, {span}, which overlaps this one{gap}."


def with_next_times(
    exc: ValidationError,
    *,
    department: Department,
    after: datetime,
    duration: int,
    agent_id: int | None,
    exclude: uuid.UUID | None = None,
) -> ValidationError:
    """A refusal of the agent's time, with the next free times of that agent (or the department's, with the
    agent the round robin gives each) added to the agent's errors: whoever lost a time is offered others."""
    messages = exc.message_dict.get("agent_id", []) if hasattr(exc, "error_dict") else []
    if not any(message.startswith(CLASH) for message in messages):
        return exc
    now = timezone.now()
    found = next_free_times(
        department=department, after=after, duration=duration, now=now, agent_id=agent_id, exclude=exclude
    )
    if not found:  # nobody with working hours is free then: the refusal alone says what happened
        return exc
    zone = ZoneInfo(department.time_zone)
    offer = "Free times from then: " + "; ".join(local_label(time.start, zone) for time in found) + "."
    return ValidationError({**exc.message_dict, "agent_id": [*messages, offer]})


# The request field a planned column answers to, for errors about it.
REQUEST_FIELD = {"department": "department_id", "agent": "agent_id"}


def raise_if_agent_overlap(exc: IntegrityError | OperationalError) -> None:
    """The no-overlap constraint refused the row: a violation names it; two transactions assigning one agent at
    once may instead each wait for the other's row while checking it, and PostgreSQL ends one of them as a
    deadlock (SQLSTATE 40P01, "while checking exclusion constraint"). Either way, the other change won."""
    deadlock = getattr(exc.__cause__, "sqlstate", None) == "40P01" and "exclusion constraint" in str(exc.__cause__)
    if AGENT_OVERLAP_CONSTRAINT in str(exc) or deadlock:
        message = f"{CLASH} another live appointment at this time (booked a moment ago)."
        raise ValidationError({"agent_id": [message]}) from None
