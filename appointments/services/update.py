"""Changing an appointment: the PATCH, and the one way every other change (cancel, no-show, the end of an
abandoned session) goes, under the appointment's row lock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from appointments import hooks
from appointments.events import appointment_change_events
from appointments.models import (
    Appointment,
)
from appointments.representation import representation
from appointments.selectors import appointment_locked
from appointments.services.planning import (
    final_errors,
    plan_agent,
    plan_department,
    plan_fields,
)
from appointments.services.shared import REQUEST_FIELD, Precondition, raise_if_agent_overlap
from claimants.services import (
    ClaimantPlan,
    claimant_apply,
    claimant_data_apply_move,
    claimant_plan_update,
    merge_errors,
)
from config.actors import Actor
from config.history import update_with_history
from config.transactions import block
from events.services import Pending, events_record


def _save(appointment: Appointment, changes: Mapping[str, Any], actor: Actor) -> None:
    """Write only the changed columns (a concurrent change to another column is never overwritten)."""
    if not changes:
        return
    for name, value in changes.items():
        setattr(appointment, name, value)
    # The department, when it changes, was checked against the actor's; re-reading it proves nothing.
    appointment.full_clean(exclude=["department", "agent"], validate_unique=False, validate_constraints=False)
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


def change(
    locked: Appointment,
    data: Mapping[str, Any],
    actor: Actor,
    precondition: Precondition | None,
    now: datetime | None = None,
    outcome: str | None = None,
) -> Appointment:
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
    if errors:
        raise ValidationError(errors)
    if precondition is not None:
        precondition(locked)
    before = {name: getattr(locked, name) for name in ("appointment_at", "duration_in_minutes", "status")}
    _save(locked, changes, actor)
    claimant_apply(claimant=locked.claimant, plan=claimant_plan, actor=actor)
    claimant_data_apply_move(claimant=locked.claimant, move=move, actor=actor)
    # What follows (meetings: the meeting's times, the participants admitted, following the interpreter and agent),
    # with the events it raises (`participant.admitted`), recorded after the change's own.
    followed: list[Pending] = []
    for follow in hooks.after_change:
        followed += follow(appointment=locked, changes=changes, actor=actor)
    fields = _changed_fields(changes, claimant_plan)
    if fields:
        # What was just written, from the row in memory: the events carry it and the API answers with it.
        locked.recorded_representation = representation(locked)
        events = appointment_change_events(before=before, after=locked, fields=fields)
        events += followed
        events_record(appointment=locked, events=events, representation=locked.recorded_representation)
    return locked


def _changed_fields(changes: Mapping[str, Any], claimant_plan: ClaimantPlan) -> list[str]:
    """What an `appointment.updated` event names: the representation's fields, as the request names them."""
    names = [REQUEST_FIELD.get(name, name) for name in changes]
    names += [f"claimant.{name}" for name in claimant_plan.fields]
    if claimant_plan.items or "department" in changes:
        names.append("claimant.data")
    return names
