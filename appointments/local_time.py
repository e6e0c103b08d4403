"""Times in the back office: each department's own zone, always labelled (`Wed 25 Nov 2026, 10:30 GMT`), one
format for every page. The API stays in UTC. docs/decisions.md lists where each time is shown in which zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from appointments.models import DEFAULT_TIME_ZONE, Department


def local_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname()}"


def staff_zone(user: Any) -> ZoneInfo:
    """A staff member's own zone for "today" and "this week": their first department's (alphabetically)."""
    name = Department.objects.visible_to(user).values_list("time_zone", flat=True).first()
    return ZoneInfo(name or DEFAULT_TIME_ZONE)


def local_day(now: datetime, zone: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of the local day of `now` (and the `days - 1` after it), right across a change of clocks."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=days), time.min, tzinfo=zone)
    # In UTC: arithmetic on two times of one zone object would count wall-clock hours, not elapsed ones.
    return start.astimezone(UTC), end.astimezone(UTC)


def local_week(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday to Sunday of the local week of `now`."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time.min, tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_moment(day: Any, clock: Any, zone: ZoneInfo) -> datetime:
    """The wall-clock time in the zone, as UTC; a time that does not exist or exists twice is refused."""
    naive = datetime.combine(day, clock)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(f"{clock:%H:%M} does not exist that day in {zone.key} (the clocks go forward).")
    if first.utcoffset() != second.utcoffset():
        raise ValidationError(
            f"{clock:%H:%M} happens twice that day in {zone.key} (the clocks go back): choose another time."
        )
    return first.astimezone(UTC)
