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

from config.actors import Actor
from config.api.rendering import api_json, escaped, object_with
from config.queue import task_row
from config.registry import Slot
from config.writes import insert_rows
from events.models import Event
from events.tasks import events_dispatch
from ledger.services import Happening, record

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
    *,
    appointment: Subject,
    events: Iterable[Pending],
    actor: Actor,
    representation: Mapping[str, Any] | None = None,
    details: Mapping[str, Happening] | None = None,
    created: bool = False,
    rendered: str | None = None,
) -> list[Event]:
    """Write the events of one change (in order) and the task that fans them out, in the current transaction,
    and one ledger entry per event (ledger.services.record: the event's type and what it says beside the
    representation, with what `details` adds for that type: the changed values, a reason, kept apart when
    personal). `created`: the appointment was created in this transaction (its ledger has no entry before).

    The appointment's representation is carried by each of them under `data.appointment`: the one the change's
    service built after writing (`representation`, with its JSON text `rendered` when the service has it:
    config.api.rendering.api_json), or else read again here. It is rendered once for all of them.
    """
    pending = list(events)
    if not pending:
        return []
    assert transaction.get_connection().in_atomic_block, "events are written in the change's transaction"
    happenings = [_happening(event_type, extra, details or {}) for event_type, extra in pending]
    record(appointment, happenings, actor=actor, first=created)
    if not settings.EVENTS_ENABLED:
        return []
    if representation is None:
        representation, rendered = representation_reader.get()(appointment), None
    shown = escaped(api_json(representation) if rendered is None else rendered)
    now = timezone.now()
    by = participant_actor(actor)
    rows = [
        Event(
            type=event_type,
            appointment_id=appointment.pk,
            department_id=appointment.department_id,
            # JSONRenderer's bytes for {"appointment": representation, **extra, **by}, the representation's text reused
            data=object_with("appointment", shown, {**extra, **by}),
            created_at=now,
        )
        for event_type, extra in pending
    ]
    insert_rows(rows)  # their sequence numbers are the database's, not read back: events go by id
    insert_rows([task_row(events_dispatch, [str(row.id) for row in rows])])  # events_dispatch.enqueue's row, one INSERT
    return rows


def participant_actor(actor: Actor) -> dict[str, Any]:
    """`actor` for an event a participant caused from their own page (issue 23.2: the claimant's change of time or
    cancel): `{"actor": {"type": "claimant", "participant_id": ...}}`, their role and participant id, nothing
    personal. Other changes carry no `actor` (additive; docs/decisions.md, "The claimant changes their own")."""
    role = getattr(actor, "role", None)
    if role is None or getattr(actor, "is_anonymous", False) is True:
        return {}
    return {"actor": {"type": str(role), "participant_id": str(getattr(actor, "pk", ""))}}


def _happening(event_type: str, extra: Mapping[str, Any], details: Mapping[str, Happening]) -> Happening:
    """The ledger's entry of an event: what the event says besides the representation (which carries personal
    values and is the appointment's state, not what happened), and the details given for its type."""
    more = details.get(event_type, Happening(event_type))
    data = {key: value for key, value in extra.items() if key != "appointment"}
    return Happening(event_type, {**data, **more.data}, more.personal)


def participant_event(participant: Person, event_type: str) -> Pending:
    return (event_type, {"participant": {"id": str(participant.pk), "role": participant.role}})
