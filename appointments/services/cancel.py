"""Cancelling an appointment (the API's cancel action and the back office's)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from appointments.models import (
    FINAL_STATUSES,
    Appointment,
    Status,
)
from appointments.selectors import appointment_locked
from appointments.services.shared import status_label
from appointments.services.update import change
from config.actors import Actor
from config.transactions import block


def appointment_cancel(
    *, appointment: Appointment, reason: str | None, actor: Actor, viewer: Actor = None
) -> Appointment:
    """Cancel an appointment with an optional reason. Unlike a PATCH to `cancelled`, cancelling one that is
    already final (cancelled included) is refused, so a client learns its cancel did not happen now. `viewer` as
    for appointment_update."""
    with block():
        current = appointment_locked(appointment.pk, viewer)
        return change(current, cancel_request(current, reason), actor, None)


def cancel_request(current: Appointment, reason: str | None) -> dict[str, Any]:
    """The change a cancel asks for (a PATCH's body), refused when the appointment is already final: the cancel and
    its dry run check it alike."""
    if current.status in FINAL_STATUSES:
        raise ValidationError(
            {"status": [f"The appointment is {status_label(current.status)} and cannot be cancelled."]}
        )
    return {"status": Status.CANCELLED, "cancellation_reason": reason}
