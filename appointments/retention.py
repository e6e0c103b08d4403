"""How long a claimant's personal data is kept after their appointment ends (issue 21.1): the department's own
period, else the service's (PERSONAL_DATA_RETENTION_DAYS), counted in calendar days in the department's zone, so
an appointment that ended at 10:30 is erased at 10:30 local time on the last day, whatever the clocks did between.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from appointments.models import Appointment, Department


def retention_days(department: Department) -> int:
    """The department's period in days, or the service's default."""
    own = department.retention_days
    return own if own is not None else int(settings.PERSONAL_DATA_RETENTION_DAYS)


def erase_after(ends_at: datetime, zone: ZoneInfo, days: int) -> datetime:
    """The moment an appointment that ended at `ends_at` is past its period: the same wall-clock time `days`
    calendar days later in `zone` (the earlier of two in the hour the clocks go back; a time the clocks skip is
    read with the offset before the change)."""
    wall = ends_at.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=zone, fold=0)


def appointment_erase_after(appointment: Appointment) -> datetime:
    return erase_after(appointment.ends_at, appointment.zone, retention_days(appointment.department))


def past_retention(department: Department, now: datetime) -> list[Appointment]:
    """The department's appointments whose claimant is not erased yet and whose period has ended by `now`, oldest
    first. Read by a date bound a day wide of the rule (the clocks move a wall time by at most a day's hours) and
    then held to the rule itself, one appointment at a time."""
    days = retention_days(department)
    zone = ZoneInfo(department.time_zone)
    candidates = Appointment.objects.filter(
        department=department,
        claimant__erased_at__isnull=True,
        appointment_at__lte=now - timedelta(days=days - 1),
    ).select_related("department")
    return [a for a in candidates.order_by("appointment_at", "id") if erase_after(a.ends_at, zone, days) <= now]


def oldest_erased_on(department: Department) -> datetime | None:
    """When the department's oldest appointment not yet erased will be (its end plus the period), or None."""
    oldest = (
        Appointment.objects.filter(department=department, claimant__erased_at__isnull=True)
        .order_by("appointment_at", "id")
        .select_related("department")
        .first()
    )
    if oldest is None:
        return None
    return erase_after(oldest.ends_at, ZoneInfo(department.time_zone), retention_days(department))
