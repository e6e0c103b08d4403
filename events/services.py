"""Recording events: called by the services that make a change, inside their transaction.

The API, the back office, the commands and the claimant's pages all change appointments through those
services, so every entry point raises the same events without knowing about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from config.prepared import insert_rows
from events.models import Event, EventType

if TYPE_CHECKING:
    from appointments.models import Appointment
    from meetings.models import Participant

Pending = tuple[str, Mapping[str, Any]]


def appointment_representation(appointment: Appointment, *, fresh: bool = True) -> dict[str, Any]:
    """The appointment exactly as the API returns it (its `data`), read again inside the caller's transaction;
    `fresh=False` when the instance in memory is current (read `with_related()`, or just written by a service)."""
    from appointments.models import Appointment
    from appointments.representation import representation, representations

    if fresh:
        return representations(Appointment.objects.filter(pk=appointment.pk))[0]
    return representation(appointment)


def events_record(
    *, appointment: Appointment, events: Iterable[Pending], representation: dict[str, Any] | None = None
) -> list[Event]:
    """Write the events of one change (in order) and the task that fans them out, in the current transaction.

    The appointment's representation is carried by each of them under `data.appointment`: the one the change's
    service built after writing (`representation`), or else read again here.
    """
    pending = list(events)
    if not pending or not settings.EVENTS_ENABLED:
        return []
    assert transaction.get_connection().in_atomic_block, "events are written in the change's transaction"
    if representation is None:
        representation = appointment_representation(appointment)
    now = timezone.now()
    rows = [
        Event(
            type=event_type,
            appointment_id=appointment.pk,
            department_id=appointment.department_id,
            data=JSONRenderer().render({"appointment": representation, **extra}).decode(),
            created_at=now,
        )
        for event_type, extra in pending
    ]
    insert_rows(rows)  # their sequence numbers are the database's, not read back: events go by id
    from events.tasks import events_dispatch

    events_dispatch.enqueue([str(row.id) for row in rows])
    return rows


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
        from appointments.models import Outcome, Status

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
    from config.api.fields import MillisecondsDateTimeField

    return {"appointment_at": MillisecondsDateTimeField().to_representation(start), "duration_in_minutes": minutes}


def participant_event(participant: Participant, event_type: str) -> Pending:
    return (event_type, {"participant": {"id": str(participant.pk), "role": participant.role}})
