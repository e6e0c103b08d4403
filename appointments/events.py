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
from claimants.models import Claimant
from config.api.fields import MillisecondsDateTimeField, milliseconds
from events.models import EventType
from events.services import Pending
from ledger.services import Happening

# What the ledger keeps apart as personal (erasable) among a change's values: the claimant's, and the free-text
# reason a person wrote (issue 20.2). The rest (times, status, ids, settings) is hashed as it is.
_PERSONAL_FIELDS = ("cancellation_reason",)


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


def booked(appointment: Appointment, claimant: Claimant) -> Happening:
    """The ledger's `appointment.created`: what was booked, the claimant's name apart."""
    data = {
        "reference": appointment.reference,
        "department_id": appointment.department_id,
        "appointment_at": milliseconds(appointment.appointment_at),
        "duration_in_minutes": appointment.duration_in_minutes,
        "status": appointment.status,
        "agent_id": appointment.agent_id,
        "is_interpreter_needed": appointment.is_interpreter_needed,
    }
    return Happening(EventType.APPOINTMENT_CREATED, data, {"claimant.name": claimant.name})


def _shown(value: Any) -> Any:
    """A changed value as the ledger records it: times as the API writes them, a related row by its id."""
    if isinstance(value, datetime):
        return milliseconds(value)
    return getattr(value, "pk", value)


def change_details(
    *, before: Mapping[str, Any], after: Mapping[str, Any], outcome: str | None = None
) -> dict[str, Happening]:
    """The ledger's details of a change's events (events.services.events_record): `appointment.updated` with each
    changed value, old and new (`before`/`after` by the request's name: `claimant.phone_number`,
    `claimant.data.<item id>` as the PATCH names an item), the personal ones apart; `appointment.cancelled` with
    its reason, apart."""
    public: dict[str, Any] = {}
    personal: dict[str, Any] = {}
    for name, new in after.items():
        change = {"old": _shown(before.get(name)), "new": _shown(new)}
        (personal if name.startswith("claimant.") or name in _PERSONAL_FIELDS else public)[name] = change
    details: dict[str, Happening] = {
        EventType.APPOINTMENT_UPDATED: Happening(
            EventType.APPOINTMENT_UPDATED, {"changes": public}, {"changes": personal} if personal else {}
        )
    }
    if "cancellation_reason" in after or outcome is not None:
        reason = after.get("cancellation_reason")
        details[EventType.APPOINTMENT_CANCELLED] = Happening(
            EventType.APPOINTMENT_CANCELLED, {"outcome": outcome}, {"reason": reason} if reason else {}
        )
    return details
