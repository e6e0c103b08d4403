"""Legal holds (issue 21.4): an appointment kept from erasure, by the API and the back office alike."""

from __future__ import annotations

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment
from appointments.selectors import appointment_locked
from config.actors import Actor, staff_of
from config.transactions import block
from privacy.models import LegalHold

MAX_REASON = 1000


def _today(appointment: Appointment) -> date:
    return timezone.now().astimezone(appointment.zone).date()


def legal_hold_place(
    *, appointment_id: uuid.UUID | str, reason: str, until: date | None, actor: Actor, viewer: Actor = None
) -> LegalHold:
    """Place a hold on the appointment (among those `viewer` may see; Appointment.DoesNotExist otherwise). A hold
    already in force is lifted and replaced by this one (its reason and end), so there is one at a time and every
    one stays on record. An erased appointment has nothing left to hold (422)."""
    reason = reason.strip()
    with block():
        locked = appointment_locked(appointment_id, viewer)
        errors: dict[str, list[str]] = {}
        if locked.claimant.erased_at is not None:
            errors["appointment"] = ["The claimant's personal data was already erased: there is nothing to hold."]
        if not reason:
            errors["reason"] = ["The reason field is required."]
        elif len(reason) > MAX_REASON:
            errors["reason"] = [f"The reason may not be greater than {MAX_REASON} characters."]
        if until is not None and until < _today(locked):
            errors["until"] = ["The until field must be today or a date after today."]
        if errors:
            raise ValidationError(errors)
        now, staff = timezone.now(), staff_of(actor)
        assert staff is not None, "a hold is placed by a member of staff (the API's token, the back office)"
        in_force = LegalHold.objects.filter(appointment_id=locked.pk, lifted_at__isnull=True)
        in_force.update(lifted_at=now, lifted_by=staff)
        return LegalHold.objects.create(
            appointment_id=locked.pk, reason=reason, until=until, placed_at=now, placed_by=staff
        )


def legal_hold_lift(*, appointment_id: uuid.UUID | str, actor: Actor, viewer: Actor = None) -> int:
    """Lift the appointment's hold; the number lifted (0 when there was none: lifting twice changes nothing)."""
    with block():
        locked = appointment_locked(appointment_id, viewer)
        holds = LegalHold.objects.filter(appointment_id=locked.pk, lifted_at__isnull=True)
        return holds.update(lifted_at=timezone.now(), lifted_by=staff_of(actor))
