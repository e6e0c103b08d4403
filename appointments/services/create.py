"""Creating an appointment, with its claimant, data items, meeting and participants."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from appointments import hooks
from appointments.events import booked
from appointments.models import (
    FEATURE_FIELDS,
    Appointment,
    Department,
)
from appointments.representation import representation
from appointments.selectors import departments_for_create
from appointments.services.planning import plan_agent, plan_fields
from appointments.services.shared import raise_if_agent_overlap, with_next_times
from claimants.services import (
    Errors,
    claimant_create,
    claimant_plan_create,
    merge_errors,
)
from config.actors import Actor
from config.api.rendering import api_json
from config.history import insert_with_history
from config.transactions import block
from events.models import EventType
from events.services import events_record

REFERENCE_DIGITS = 9


def draw_reference() -> str:
    """A random 9-digit numeric reference; the unique constraint says whether it is free (appointment_create
    draws again when it is not)."""
    return str(10 ** (REFERENCE_DIGITS - 1) + secrets.randbelow(9 * 10 ** (REFERENCE_DIGITS - 1)))


DRAW_ATTEMPTS = 5
# The unique constraint a drawn reference may meet (appointment_reference_unique_in_dept), by its fields.
REFERENCE_UNIQUE = ("department", "reference")


def appointment_create(
    *,
    department: Department,
    appointment_at: datetime,
    duration_in_minutes: int,
    claimant: Mapping[str, Any],
    actor: Actor,
    reference: str | None = None,
    **options: Any,
) -> Appointment:
    """Create a scheduled appointment with its claimant, one data item per department field, and its meeting.

    `department` is one the actor may use, as its caller resolved it: `department_for_create` (the API) or the
    back office's list of the actor's departments (the commands act as the system). `options` are the writable
    representation fields (features, interpreter, redirects); `claimant["data"]` maps a field's name or id to
    its value. Raises ValidationError keyed by dot paths and writes nothing then. The returned instance has its
    `recorded_representation`.

    A generated reference and the meeting's id are drawn at random and inserted without checking first: should
    one be taken, the insert writes nothing (`ON CONFLICT ... DO NOTHING`) and that value alone is drawn again, in
    the same transaction, so a create costs no check and no savepoint for them. A create that names an agent runs
    in a savepoint of its own even in the API's transaction: the agent's no-overlap constraint may refuse its row
    (a concurrent booking), and the refusal is answered with the agent's next free times, read after rolling back.
    """
    try:
        with block(guarded=options.get("agent_id") is not None):
            return _create(department, appointment_at, duration_in_minutes, claimant, actor, reference, options)
    except ValidationError as exc:  # an agent's clash comes with the next free times (issue 23.3)
        agent_id = options.get("agent_id")
        raise with_next_times(
            exc, department=department, after=appointment_at, duration=duration_in_minutes, agent_id=agent_id
        ) from None


def _create(
    department: Department,
    appointment_at: datetime,
    duration_in_minutes: int,
    claimant: Mapping[str, Any],
    actor: Actor,
    reference: str | None,
    options: Mapping[str, Any],
) -> Appointment:
    errors: Errors = {}
    if reference is not None and Appointment.objects.filter(department=department, reference=reference).exists():
        errors["reference"] = ["The reference has already been taken."]
    # New appointments take the department's feature settings unless the request sets them.
    appointment = Appointment(
        department=department,
        reference=reference or draw_reference(),
        **{name: getattr(department, name) for name in FEATURE_FIELDS},
    )
    schedule = {"appointment_at": appointment_at, "duration_in_minutes": duration_in_minutes}
    changes, field_errors = plan_fields(appointment, {**options, **schedule}, timezone.now())
    agent_changes, agent_errors = plan_agent(appointment, options, department, (changes, field_errors))
    changes |= agent_changes
    draft = claimant_plan_create(department_id=department.pk, data=claimant, fields=department.data_fields_read)
    errors = merge_errors(errors, field_errors, agent_errors, draft.errors)
    if errors:
        raise ValidationError(errors)
    for name, value in changes.items():
        setattr(appointment, name, value)
    _insert(appointment, actor, drawn=reference is None)
    claimant_create(draft=draft, appointment=appointment, actor=actor)
    for follow in hooks.after_create:  # meetings: the meeting (a drawn id) and its participants
        follow(appointment=appointment, actor=actor)
    appointment.recorded_representation = representation(appointment, items=draft.items)
    appointment.recorded_json = api_json(appointment.recorded_representation)
    events: list[tuple[str, dict[str, Any]]] = [(EventType.APPOINTMENT_CREATED, {})]
    events_record(
        appointment=appointment,
        events=events,
        actor=actor,
        representation=appointment.recorded_representation,
        details={EventType.APPOINTMENT_CREATED: booked(appointment, draft.claimant)},
        created=True,
        rendered=appointment.recorded_json,
    )
    return appointment


def _insert(appointment: Appointment, actor: Actor, *, drawn: bool) -> None:
    """Insert the new row, drawing its reference again while a drawn one is taken. No savepoint: a failure (the
    agent's no-overlap constraint) spoils the transaction, which appointment_create's block rolls back (the whole
    create, or to the caller's savepoint or its own) before anything else runs in it."""
    appointment.full_clean(exclude=["department", "agent"], validate_unique=False, validate_constraints=False)
    for _attempt in range(DRAW_ATTEMPTS):
        try:
            if insert_with_history([appointment], actor, unless_taken=REFERENCE_UNIQUE):
                return
        except (IntegrityError, OperationalError) as exc:
            raise_if_agent_overlap(exc)
            raise
        if not drawn:  # a concurrent create took the client's reference between the check and the insert
            raise ValidationError({"reference": ["The reference has already been taken."]})
        appointment.reference = draw_reference()
    raise RuntimeError(f"could not draw a free reference in {DRAW_ATTEMPTS} attempts")


def department_for_create(*, actor: Actor, department_id: uuid.UUID | str | None) -> Department:
    """The department a new appointment goes to: the one named, or the caller's only department (with its data
    fields on PostgreSQL: departments_for_create)."""
    found = departments_for_create(actor=actor, pk=department_id)
    if department_id is not None:
        if not found:
            raise ValidationError({"department_id": ["The selected department id is invalid."]})
        return found[0]
    if len(found) == 1:
        return found[0]
    raise ValidationError(
        {"department_id": ["The department id field is required when the caller has more than one department."]}
        if found
        else {"department_id": ["The caller has no department to create appointments in."]}
    )
