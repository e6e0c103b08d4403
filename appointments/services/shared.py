"""What the appointment services share: the types of a planned change, labels, and the agent's clash."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError

from appointments.local_time import local_span
from appointments.models import (
    MAX_DURATION,
    Appointment,
    Status,
)
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


LIVE_STATUSES = (Status.SCHEDULED, Status.WAITING, Status.IN_PROGRESS)
AGENT_OVERLAP_CONSTRAINT = "appointment_agent_no_overlap"


def agent_clash(*, agent_id: int, start: datetime, end: datetime, exclude: uuid.UUID) -> Appointment | None:
    """The agent's live appointment that overlaps [start, end), if any (durations are bounded, so one indexed
    range read finds every candidate)."""
    candidates = Appointment.objects.filter(
        agent_id=agent_id,
        status__in=LIVE_STATUSES,
        appointment_at__lt=end,
        appointment_at__gt=start - timedelta(minutes=MAX_DURATION),
    ).exclude(pk=exclude)
    for other in candidates.order_by("appointment_at").only("pk", "reference", "appointment_at", "duration_in_minutes"):
        if other.appointment_at + timedelta(minutes=other.duration_in_minutes) > start:
            return other
    return None


def clash_message(other: Appointment, zone: ZoneInfo) -> str:
    """The clash, in the zone of the appointment being booked or changed (the one its author is reading): the API
    and the back office give the same text."""
    span = local_span(other.appointment_at, other.ends_at, zone)
    return f"The agent already has appointment {other.reference}, {span}, which overlaps this one."


# The request field a planned column answers to, for errors about it.
REQUEST_FIELD = {"department": "department_id", "agent": "agent_id"}


def raise_if_agent_overlap(exc: IntegrityError | OperationalError) -> None:
    """The no-overlap constraint refused the row: a violation names it; two transactions assigning one agent at
    once may instead each wait for the other's row while checking it, and PostgreSQL ends one of them as a
    deadlock (SQLSTATE 40P01, "while checking exclusion constraint"). Either way, the other change won."""
    deadlock = getattr(exc.__cause__, "sqlstate", None) == "40P01" and "exclusion constraint" in str(exc.__cause__)
    if AGENT_OVERLAP_CONSTRAINT in str(exc) or deadlock:
        message = "The agent already has another live appointment at this time (booked a moment ago)."
        raise ValidationError({"agent_id": [message]}) from None
