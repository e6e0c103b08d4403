"""Changing an appointment: the PATCH, and the one way every other change (cancel, no-show, the end of an
abandoned session) goes, under the appointment's row lock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.db.models import Field
from django.utils import timezone

from appointments import hooks
from appointments.events import appointment_change_events, change_details
from appointments.models import (
    Appointment,
)
from appointments.representation import representation
from appointments.selectors import appointment_locked
from appointments.services.planning import (
    SCHEDULE_FIELDS,
    final_errors,
    plan_agent,
    plan_department,
    plan_fields,
)
from appointments.services.shared import (
    BUFFER_FIELDS,
    REQUEST_FIELD,
    Precondition,
    raise_if_agent_overlap,
    with_next_times,
)
from claimants.services import (
    ClaimantPlan,
    DepartmentMove,
    claimant_apply,
    claimant_data_apply_move,
    claimant_plan_update,
    merge_errors,
)
from config.actors import Actor
from config.api.rendering import api_json
from config.history import update_with_history
from config.transactions import block
from events.services import Pending, events_record

ERASED = "The claimant's personal data was erased: the appointment can no longer be changed."


def set_changes(appointment: Appointment, changes: Mapping[str, Any]) -> None:
    """The planned columns set on the row in memory and checked as a row: what `_save` writes, and what a dry run
    shows without writing."""
    if not changes:
        return
    for name, value in changes.items():
        setattr(appointment, name, value)
    # The department, when it changes, was checked against the actor's; re-reading it proves nothing.
    appointment.full_clean(exclude=["department", "agent"], validate_unique=False, validate_constraints=False)


def _save(appointment: Appointment, changes: Mapping[str, Any], actor: Actor) -> None:
    """Write only the changed columns (a concurrent change to another column is never overwritten)."""
    if not changes:
        return
    set_changes(appointment, changes)
    appointment.updated_at = timezone.now()
    try:
        # No savepoint: when the agent's no-overlap constraint refuses the row (a concurrent assignment), the
        # error ends the change and the service's own block rolls it back.
        update_with_history([appointment], [*changes, "updated_at"], actor)
    except (IntegrityError, OperationalError) as exc:
        raise_if_agent_overlap(exc)
        raise


def appointment_update(
    *,
    appointment: Appointment,
    data: Mapping[str, Any],
    actor: Actor,
    precondition: Precondition | None = None,
    viewer: Actor = None,
) -> Appointment:
    """Apply a partial change (the PATCH body's fields, already shaped) to an appointment.

    `data` holds only the fields to change; `claimant` is a mapping of claimant fields. Rules: the status
    lifecycle with server-stamped times; nothing changes once final; reschedules only while scheduled or
    waiting, the meeting following; the interpreter and redirect rules; the department must be one the actor
    may use. Raises ValidationError keyed by dot paths and writes nothing when any rule fails.
    `precondition` runs on the locked row before anything is written (the API's If-Match check). Only the
    appointment's pk is read: the row is read again under its lock, and only among those `viewer` may see when
    given (the API's tenancy; Appointment.DoesNotExist otherwise). The returned instance is the locked row as
    written, with `recorded_representation` set when something changed.
    """
    with block():
        return change(appointment_locked(appointment.pk, viewer), data, actor, precondition)


@dataclass
class Change:
    """A change checked against every rule on the row it is for, nothing written yet: the appointment's columns, the
    claimant's plan, how the claimant's data follows a move of department, and what the events compare."""

    appointment: Appointment
    changes: dict[str, Any]
    claimant: ClaimantPlan
    move: DepartmentMove
    before: dict[str, Any]
    old: dict[str, Any]  # the changed values as they are, for the ledger (`_values`)
    outcome: str | None

    def fields(self) -> list[str]:
        """What an `appointment.updated` event names: the representation's fields, as the request names them."""
        names = [REQUEST_FIELD.get(name, name) for name in self.changes if name not in BUFFER_FIELDS]
        names += [f"claimant.{name}" for name in self.claimant.fields]
        if self.claimant.items or "department" in self.changes:
            names.append("claimant.data")
        return names


def change(
    locked: Appointment,
    data: Mapping[str, Any],
    actor: Actor,
    precondition: Precondition | None,
    now: datetime | None = None,
    outcome: str | None = None,
) -> Appointment:
    return apply_change(plan_change(locked, data, actor, precondition, now, outcome), actor)


def plan_change(
    locked: Appointment,
    data: Mapping[str, Any],
    actor: Actor,
    precondition: Precondition | None,
    now: datetime | None = None,
    outcome: str | None = None,
) -> Change:
    """Check a change against every rule (ValidationError keyed by dot paths) and the precondition (the If-Match),
    reading and writing nothing but what the rules read: what `apply_change` writes and a dry run shows."""
    if locked.claimant.erased_at is not None:
        # Issue 21.2: what stays of an erased appointment is a record (its time, status, outcome); nothing may change.
        raise ValidationError({"claimant": ERASED})
    changes, errors = plan_fields(locked, data, now or timezone.now())
    if outcome is not None and "status" in changes:
        changes["outcome"] = outcome  # decided by the service itself (appointment_mark_no_shows), never by a client
    claimant_plan = claimant_plan_update(claimant=locked.claimant, data=data.get("claimant") or {})
    department, move = plan_department(locked, data.get("department_id"), claimant_plan, actor)
    if department is not None:
        changes["department"] = department
    agent_changes, agent_errors = plan_agent(locked, data, department or locked.department, (changes, errors))
    changes |= agent_changes
    errors = merge_errors(errors, agent_errors)
    # A final appointment's error replaces any other about the same field: it is the one that matters.
    errors = merge_errors(errors, claimant_plan.errors, move.errors) | final_errors(locked, changes, claimant_plan)
    if errors:  # an agent's clash comes with the next free times (issue 23.3)
        after, duration = (changes.get(name, getattr(locked, name)) for name in SCHEDULE_FIELDS)
        agent = data.get("agent_id", locked.agent_id)
        where = department or locked.department
        raise with_next_times(
            ValidationError(errors), department=where, after=after, duration=duration, agent_id=agent, exclude=locked.pk
        )
    if precondition is not None:
        precondition(locked)
    before = {name: getattr(locked, name) for name in ("appointment_at", "duration_in_minutes", "status")}
    old = _values(locked, changes, claimant_plan, old=True)
    return Change(locked, changes, claimant_plan, move, before, old, outcome)


def apply_change(planned: Change, actor: Actor) -> Appointment:
    """Write a checked change, what follows it and its events."""
    locked, changes = planned.appointment, planned.changes
    _save(locked, changes, actor)
    claimant_apply(claimant=locked.claimant, plan=planned.claimant, actor=actor)
    claimant_data_apply_move(claimant=locked.claimant, move=planned.move, actor=actor)
    # What follows (meetings: the meeting's times, the participants admitted, following the interpreter and agent),
    # with the events it raises (`participant.admitted`), recorded after the change's own.
    followed: list[Pending] = []
    for follow in hooks.after_change:
        followed += follow(appointment=locked, changes=changes, actor=actor)
    fields = planned.fields()
    if fields:
        # What was just written, from the row in memory: the events carry it and the API answers with it.
        locked.recorded_representation = representation(locked)
        locked.recorded_json = api_json(locked.recorded_representation)
        events = appointment_change_events(before=planned.before, after=locked, fields=fields)
        events += followed
        after = _values(locked, changes, planned.claimant, old=False)
        details = change_details(before=planned.old, after=after, outcome=planned.outcome)
        events_record(
            appointment=locked,
            events=events,
            actor=actor,
            representation=locked.recorded_representation,
            details=details,
            rendered=locked.recorded_json,
        )
    return locked


def _values(
    locked: Appointment, changes: Mapping[str, Any], claimant_plan: ClaimantPlan, *, old: bool
) -> dict[str, Any]:
    """The changed columns' values as the row holds them now (by the request's names), for the ledger: read before
    the change they are the old values, after it the new ones (a related row by its id)."""
    values = {REQUEST_FIELD.get(name, name): getattr(locked, _attname(locked, name)) for name in changes}
    values |= {f"claimant.{name}": getattr(locked.claimant, name) for name in claimant_plan.fields}
    for item in claimant_plan.items:  # planned with their new value; the old one kept by the plan
        values[f"claimant.data.{item.id}"] = claimant_plan.items_before.get(item.id) if old else item.value
    return values


def _attname(locked: Appointment, name: str) -> str:
    field = locked._meta.get_field(name)
    return field.attname if isinstance(field, Field) else name
