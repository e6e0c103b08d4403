"""What happened to an appointment, in the outbox's terms: the events a change raises, and the representation
every event of the appointment carries (registered with the outbox in `AppointmentsConfig.ready()`: the outbox
sits below the apps whose changes it records, docs/layout.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from appointments.models import Appointment, Outcome, Status
from appointments.representation import visible_one
from appointments.shape import AppointmentShown
from config.api.fields import MillisecondsDateTimeField
from events.models import EventType
from events.services import Pending


def appointment_representation(appointment: Appointment) -> AppointmentShown:
    """The appointment exactly as the API returns it (its `data`), read again inside the caller's transaction, with
    the API's own read compiled once (the caller has its appointment already, so no tenancy: None sees all)."""
    shown = visible_one(None, appointment.pk)
    assert shown is not None, "the appointment of a change being recorded exists"
    return shown


def appointment_change_events(*, before: Mapping[str, Any], after: Appointment, fields: list[str]) -> list[Pending]:
    """The events of an appointment's change: `updated` with every changed field's request name, then the
    specific ones (rescheduled, status_changed, meeting.started/ended, cancelled and missed, no_show)."""
    if not fields:
        return []
    events: list[Pending] = [(EventType.APPOINTMENT_UPDATED, {"changed_fields": fields})]
    if before["appointment_at"] != after.appointment_at or before["duration_in_minutes"] != after.duration_in_minutes:
        events.append(
            (
                EventType.APPOINTMENT_RESCHEDULED,
                {
                    "previous": _schedule(before["appointment_at"], before["duration_in_minutes"]),
                    "current": _schedule(after.appointment_at, after.duration_in_minutes),
                },
            )
        )
    old, new = before["status"], after.status
    if old != new:
        events.append((EventType.APPOINTMENT_STATUS_CHANGED, {"from": old, "to": new}))
        if new == Status.IN_PROGRESS:
            events.append((EventType.MEETING_STARTED, {}))
        if old == Status.IN_PROGRESS:
            events.append((EventType.MEETING_ENDED, {}))
        if new == Status.CANCELLED:
            events.append((EventType.APPOINTMENT_CANCELLED, {}))
            if after.outcome == Outcome.MISSED_BY_ORGANISATION:
                events.append((EventType.APPOINTMENT_MISSED, {}))
        if new == Status.NO_SHOW:
            events.append((EventType.APPOINTMENT_NO_SHOW, {}))
    return events


def _schedule(start: datetime, minutes: int) -> dict[str, Any]:
    return {"appointment_at": MillisecondsDateTimeField().to_representation(start), "duration_in_minutes": minutes}
