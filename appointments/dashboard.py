"""The managers' week (or any range of days) at a glance: appointments by status per day, the no-show rate and the
average wait in the waiting room, for the staff member's departments, in two queries whatever the number of
appointments. The per-agent figures beside it are appointments/numbers.py's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from appointments import hooks
from appointments.local_time import local_week
from appointments.models import Status
from appointments.numbers import range_bounds

STATUS_ORDER = [
    Status.SCHEDULED,
    Status.WAITING,
    Status.IN_PROGRESS,
    Status.COMPLETED,
    Status.CANCELLED,
    Status.NO_SHOW,
]


def week_summary(appointments: QuerySet[Any], zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The week of `now`, Monday to Sunday in the zone."""
    start, _end = local_week(now, zone)
    monday = start.astimezone(zone).date()
    return range_summary(appointments, zone, monday, monday + timedelta(days=6))


def range_summary(appointments: QuerySet[Any], zone: ZoneInfo, first: date, last: date) -> dict[str, Any]:
    """From the first day to the last (both included, in the zone): appointments by status per day, the no-show
    rate and the average wait (issue 24.7 made the week a range)."""
    start, end = range_bounds(first, last, zone)
    week = appointments.filter(appointment_at__gte=start, appointment_at__lt=end)
    counts = (
        week.annotate(day=TruncDate("appointment_at", tzinfo=zone))
        .values("day", "status")
        .annotate(total=Count("pk"))
        .order_by()
    )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    grid: dict[date, dict[str, int]] = {day: dict.fromkeys(STATUS_ORDER, 0) for day in days}
    for row in counts:
        grid[row["day"]][row["status"]] += row["total"]
    totals = {status: sum(grid[day][status] for day in days) for status in STATUS_ORDER}
    ended = totals[Status.COMPLETED] + totals[Status.NO_SHOW]
    waits = hooks.claimant_waits.get()(week)  # meetings' participants: meetings.selectors.claimant_waits
    return {
        "days": days,
        "statuses": [(status, Status(status).label) for status in STATUS_ORDER],
        "rows": [(day, [grid[day][status] for status in STATUS_ORDER], sum(grid[day].values())) for day in days],
        "totals": [totals[status] for status in STATUS_ORDER],
        "total": sum(totals.values()),
        "no_show_rate": (totals[Status.NO_SHOW] / ended) if ended else None,
        "no_shows": totals[Status.NO_SHOW],
        "ended": ended,
        "average_wait": waits["average"],
        "waits_recorded": waits["recorded"],
        "chart": {
            "labels": [f"{day:%a} {day.day}" for day in days],
            "series": [
                {"status": status, "label": Status(status).label, "counts": [grid[day][status] for day in days]}
                for status in STATUS_ORDER
            ],
        },
    }
