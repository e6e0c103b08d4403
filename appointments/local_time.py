"""Times a person reads, in a department's zone: the format is config.local_time's (imported here, where the apps
import it), and a staff member's own zone is their departments' (`staff_zone`)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from appointments.models import DEFAULT_TIME_ZONE, Department
from config.local_time import (
    local_clock,
    local_date,
    local_day,
    local_iso,
    local_label,
    local_moment,
    local_readings,
    local_span,
    local_week,
)

__all__ = [
    "local_clock",
    "local_date",
    "local_day",
    "local_iso",
    "local_label",
    "local_moment",
    "local_readings",
    "local_span",
    "local_week",
    "staff_zone",
]


def staff_zone(user: Any) -> ZoneInfo:
    """A staff member's own zone for "today" and "this week", and for times that belong to no department (an API
    token's): their first department's (alphabetically)."""
    name = Department.objects.visible_to(user).values_list("time_zone", flat=True).first()
    return ZoneInfo(name or DEFAULT_TIME_ZONE)
