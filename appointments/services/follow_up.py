"""Following up an appointment the organisation missed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appointments.models import (
    Appointment,
)
from config.actors import Actor, staff_of
from config.history import update_with_history
from ledger.services import Happening, record


def appointment_follow_up(*, appointment: Appointment, actor: Actor) -> Appointment:
    """Record that someone in the organisation followed a missed appointment up (called the claimant back, booked
    again): who and when, with history. The back office then no longer lists it under "Needs attention". The
    appointment is final and its representation unchanged, so no event is raised. Following up again keeps the
    first record."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.outcome is None:
            raise ValidationError({"outcome": ["Only an appointment missed by the organisation is followed up."]})
        if locked.followed_up_at is None:
            locked.followed_up_at = timezone.now()
            locked.followed_up_by = staff_of(actor)
            update_with_history([locked], ["followed_up_at", "followed_up_by"], actor)
            record(locked, [Happening("appointment.followed_up")], actor=actor)
        return locked
