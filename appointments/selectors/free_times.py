"""A department's free times' reads (appointments.slots), compiled once (config.prepared; issue 23, and 26.2: the
booking rules, the round robin's last appointments and the days that differ were built by the ORM for every request,
where appointments/selectors had no room left under its 400 lines). SLOT_BUSY leaves `but` out (nil: none)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max, Q

from appointments.availability import BookingRules, EpochMinutes, HoursException, WorkingHours
from appointments.models import LIVE_STATUSES, Appointment
from config.prepared import Prepared, from_row
from config.prepared import columns as columns_of

_STAFF = lambda department_id: User.objects.filter(is_active=True, is_staff=True, departments=department_id)  # noqa: E731
SLOT_HOURS = Prepared(
    lambda department_id: (
        WorkingHours.objects.filter(department_id=department_id)
        .filter(Q(agent__isnull=True) | Q(agent__in=_STAFF(department_id)))
        .values_list("agent_id", "weekday", "starts_at", "ends_at")
    )
)
_BUFFERS = ("buffer_before_minutes", "buffer_after_minutes")
SLOT_BUSY = Prepared(
    lambda agents, after, before, but: (
        Appointment.objects.filter(
            agent_id__in=agents, status__in=LIVE_STATUSES, appointment_at__gt=after, appointment_at__lt=before
        )
        .exclude(pk=but)
        .order_by()
        .values_list("agent_id", EpochMinutes("appointment_at"), "duration_in_minutes", *_BUFFERS)
    )
)
_RULES = Prepared(
    lambda department_id: BookingRules.objects.filter(department_id=department_id).values_list(
        *columns_of(BookingRules)
    )
)
_LAST_GIVEN = Prepared(
    lambda department_id, agents: (
        Appointment.objects.filter(department_id=department_id, agent_id__in=agents)
        .values("agent_id")
        .annotate(last=Max("created_at"))
        .values_list("agent_id", "last")
    )
)
_DAYS_THAT_DIFFER = Prepared(
    lambda department_id, first, last: HoursException.objects.filter(
        department_id=department_id, day__range=(first, last)
    ).values_list("agent_id", "day", "kind", "starts_at", "ends_at")
)


def booking_rules_of(department_id: uuid.UUID) -> BookingRules | None:
    """The department's booking rules, or None when it has never set any."""
    rows = _RULES.rows(department_id)
    return from_row(rows[0], [BookingRules])[0] if rows else None


def last_given(department_id: uuid.UUID, agents: list[int]) -> dict[int, datetime]:
    """When each of these agents was last given an appointment of the department (by when it was made)."""
    return dict(_LAST_GIVEN.rows(department_id, tuple(agents))) if agents else {}


def days_that_differ(department_id: uuid.UUID, first: date, last: date) -> list[tuple[Any, ...]]:
    """The department's and its agents' days that differ from `first` to `last`: (agent, day, kind, from, until)."""
    return _DAYS_THAT_DIFFER.rows(department_id, first, last)
