"""Recording events: called by the services that make a change, inside their transaction.

The API, the back office, the commands and the claimant's pages all change appointments through those
services, so every entry point raises the same events without knowing about them. The outbox sits below the
apps whose changes it records: it knows an appointment only as a row with a department, and reads its
representation through the reader the appointments app provides (`representation_reader`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from config.registry import Slot
from config.writes import insert_rows
from events.models import Event
from events.tasks import events_dispatch

Pending = tuple[str, Mapping[str, Any]]


class Subject(Protocol):
    """What the outbox needs of the appointment whose change it records."""

    @property
    def pk(self) -> Any: ...

    @property
    def department_id(self) -> Any: ...


class Person(Protocol):
    """What a participant's event says of them."""

    @property
    def pk(self) -> Any: ...

    @property
    def role(self) -> str: ...


# The appointment's representation as the API returns it, read again in the change's transaction: provided by the
# appointments app (`AppointmentsConfig.ready()`).
representation_reader: Slot[Callable[[Any], Mapping[str, Any]]] = Slot("the appointment's representation")


def events_record(
    *, appointment: Subject, events: Iterable[Pending], representation: Mapping[str, Any] | None = None
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
        representation = representation_reader.get()(appointment)
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
    events_dispatch.enqueue([str(row.id) for row in rows])
    return rows


def participant_event(participant: Person, event_type: str) -> Pending:
    return (event_type, {"participant": {"id": str(participant.pk), "role": participant.role}})
