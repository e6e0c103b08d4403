"""Times a person reads: each department's own zone, always labelled, one format for every page and message
(issue 17.10). This module is where the format is declared; everything else (the back office's pages, their
templates through `appointments.templatetags.local_time`, the services' messages, the commands' output) calls it:

- `local_label`: a moment, `Thu 10 Jun 2027, 10:00 BST`;
- `local_clock`: its time of day alone, `10:00 BST`, where the day is already said (the waiting room of today);
- `local_span`: a start and an end, `Thu 10 Jun 2027, 10:00 to 10:45 BST` (both labelled when the clocks change
  in between: `Sun 28 Mar 2027, 00:30 GMT to 02:30 BST`).

The API's fields stay in UTC (the contract); docs/decisions.md lists where each time is shown in which zone.
Here, below every app, so that the admin's shared plumbing (config.admin) and every app label times alike; a
staff member's own zone (`staff_zone`, from their departments) is appointments.local_time's.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError


def local_clock(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%H:%M} {local.tzname()}"


def local_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local_clock(local, zone)}"


def local_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() != last.date():
        return f"{local_label(first, zone)} to {local_label(last, zone)}"
    if first.tzname() != last.tzname():
        return f"{local_label(first, zone)} to {local_clock(last, zone)}"
    return f"{local_label(first, zone).removesuffix(f' {first.tzname()}')} to {local_clock(last, zone)}"


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
