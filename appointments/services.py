"""Business rules for appointments, shared by the API, the admin and the management commands.

Each service runs in one transaction, locks the appointment row first (so writes to one appointment are
serialised and a concurrent change is never lost), checks every rule and collects all errors under the dot
paths of the request fields, and only when there are none writes exactly the columns that change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from appointments.models import (
    FEATURE_FIELDS,
    FINAL_STATUSES,
    RESCHEDULABLE_STATUSES,
    Appointment,
    Department,
    Status,
)
from claimants.models import Claimant, ClaimantData, ClaimantDataField
from claimants.services import (
    ClaimantPlan,
    Errors,
    claimant_apply,
    claimant_data_for_fields,
    claimant_plan_update,
    clean_data_value,
)
from meetings.services import meeting_follow_appointment, meeting_for

# Columns a client sets as given (the scheduling, interpreter and status fields have rules of their own, and the
# service stamps the status times itself).
OPTION_FIELDS = (
    *FEATURE_FIELDS,
    "use_custom_post_call_redirect",
    "custom_user_post_call_redirect_url",
    "custom_agent_post_call_redirect_url",
)
REFERENCE_DIGITS = 9

Precondition = Callable[[Appointment], None]


def _label(name: str) -> str:
    return name.replace("_", " ")


def _status_label(status: str) -> str:
    return status.replace("_", " ")


def generate_reference(*, department: Department) -> str:
    """A 9-digit numeric reference not yet used in the department."""
    while True:
        reference = str(10 ** (REFERENCE_DIGITS - 1) + secrets.randbelow(9 * 10 ** (REFERENCE_DIGITS - 1)))
        if not Appointment.objects.filter(department=department, reference=reference).exists():
            return reference


def _plan_status(appointment: Appointment, data: Mapping[str, Any], changes: dict[str, Any], errors: Errors) -> None:
    target = data.get("status")
    reason = data.get("cancellation_reason")
    reason = reason.strip() or None if isinstance(reason, str) else reason
    if target is not None and target != appointment.status:
        if not appointment.can_transition_to(target):
            errors.setdefault("status", []).append(
                f"The status cannot change from {_status_label(appointment.status)} to {_status_label(target)}."
            )
            return
        now = timezone.now()
        changes["status"] = target
        if target == Status.IN_PROGRESS:
            changes["session_started_at"] = now
        elif target == Status.COMPLETED:
            changes["session_ended_at"] = now
        elif target == Status.CANCELLED:
            changes["cancelled_at"] = now
            changes["cancellation_reason"] = reason
    giving_reason = "cancellation_reason" in data and changes.get("status") != Status.CANCELLED
    if giving_reason and reason != appointment.cancellation_reason:
        errors.setdefault("cancellation_reason", []).append(
            "The cancellation reason can only be given when the appointment is cancelled."
        )


def _plan_schedule(appointment: Appointment, data: Mapping[str, Any], changes: dict[str, Any], errors: Errors) -> None:
    for name in ("appointment_at", "duration_in_minutes"):
        if name in data and data[name] is not None and data[name] != getattr(appointment, name):
            if appointment.status not in RESCHEDULABLE_STATUSES:
                errors.setdefault(name, []).append(
                    f"The {_label(name)} can change only while the appointment is scheduled or waiting."
                )
            elif name == "appointment_at" and data[name] < timezone.now():
                errors.setdefault(name, []).append("The appointment at field must be a date after now.")
            else:
                changes[name] = data[name]


def _plan_options(appointment: Appointment, data: Mapping[str, Any], changes: dict[str, Any], errors: Errors) -> None:
    for name in OPTION_FIELDS:
        if name in data and data[name] != getattr(appointment, name):
            changes[name] = data[name]

    def after(name: str) -> Any:
        return changes.get(name, getattr(appointment, name))

    # The interpreter rule is about the state after the change: null counts as false (the original's
    # body allows `is_interpreter_needed: null`), and without an interpreter no language is kept.
    needed = (
        bool(data["is_interpreter_needed"]) if "is_interpreter_needed" in data else appointment.is_interpreter_needed
    )
    language = data.get("interpreter_language", appointment.interpreter_language)
    language = (language or "").strip() or None
    if not needed:
        language = None
    elif language is None:
        errors.setdefault("interpreter_language", []).append(
            "The interpreter language field is required when an interpreter is needed."
        )
    for name, value in (("is_interpreter_needed", needed), ("interpreter_language", language)):
        if value != getattr(appointment, name):
            changes[name] = value

    if after("use_custom_post_call_redirect") and not (
        after("custom_user_post_call_redirect_url") or after("custom_agent_post_call_redirect_url")
    ):
        errors.setdefault("use_custom_post_call_redirect", []).append(
            "A custom post call redirect needs a custom user or agent post call redirect URL."
        )


@dataclass
class DepartmentMove:
    """How a claimant's data items follow an appointment to another department."""

    moved: list[ClaimantData] = field(default_factory=list)  # re-pointed to the new department's field
    dropped: list[ClaimantData] = field(default_factory=list)  # empty items of fields the new one lacks
    added: list[ClaimantDataField] = field(default_factory=list)  # new fields that get an empty item


def _plan_department_move(
    appointment: Appointment, department: Department, plan: ClaimantPlan, errors: Errors
) -> DepartmentMove:
    """Carry the claimant's data over to the new department's fields, matched by name and type.

    Refused (422 on department_id) where a value would be lost or a required field would stay empty: moving an
    appointment never drops data silently; only empty items of fields the new department lacks go.
    """
    if Appointment.objects.filter(department=department, reference=appointment.reference).exists():
        errors.setdefault("department_id", []).append(
            "The reference of this appointment is already taken in the selected department."
        )
    planned = {item.id: item.value for item in plan.items}
    items = list(ClaimantData.objects.filter(claimant__appointment=appointment).select_related("field"))
    new_fields = {(f.name, f.type): f for f in ClaimantDataField.objects.filter(department=department)}
    move = DepartmentMove()
    for item in items:
        value = planned.get(item.id, item.value)
        target = new_fields.pop((item.field.name, item.field.type), None)
        if target is None:
            if value is not None:
                errors.setdefault("department_id", []).append(
                    f"The selected department does not collect {item.field.name!r}, which has a value."
                )
            move.dropped.append(item)
            continue
        if target.required and value is None:
            errors.setdefault("department_id", []).append(f"The selected department requires {target.name!r}.")
        item.field = target
        item.value = value
        move.moved.append(item)
    for missing in new_fields.values():
        if missing.required:
            errors.setdefault("department_id", []).append(f"The selected department requires {missing.name!r}.")
    move.added = list(new_fields.values())
    return move


def appointment_update(
    *,
    appointment: Appointment,
    data: Mapping[str, Any],
    actor: Any,
    precondition: Precondition | None = None,
) -> Appointment:
    """Apply a partial change (the PATCH body's fields, already shaped) to an appointment.

    `data` holds only the fields to change; `claimant` is a mapping of claimant fields. Rules: the status
    lifecycle with server-stamped times; nothing changes once final; reschedules only while scheduled or
    waiting, the meeting following; the interpreter and redirect rules; the department must be one the actor
    may use. Raises ValidationError keyed by dot paths and writes nothing when any rule fails.
    `precondition` runs on the locked row before anything is written (the API's If-Match check).
    """
    errors: Errors = {}
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("department", "claimant", "meeting")
            .get(pk=appointment.pk)
        )
        _plan_status(locked, data, changes, errors)
        _plan_schedule(locked, data, changes, errors)
        _plan_options(locked, data, changes, errors)

        claimant_plan = ClaimantPlan()
        if data.get("claimant") is not None:
            claimant_plan = claimant_plan_update(claimant=locked.claimant, data=data["claimant"], errors=errors)

        move = DepartmentMove()
        department_id = data.get("department_id")
        if department_id is not None and department_id != locked.department_id:
            department = Department.objects.visible_to(actor).filter(pk=department_id).first()
            if department is None:
                errors.setdefault("department_id", []).append("The selected department id is invalid.")
            else:
                changes["department"] = department
                move = _plan_department_move(locked, department, claimant_plan, errors)

        if locked.status in FINAL_STATUSES and (changes or claimant_plan):
            message = f"The appointment is {_status_label(locked.status)} and can no longer be changed."
            for name in [*changes, *(f"claimant.{n}" for n in claimant_plan.fields)] or ["claimant.data"]:
                errors[name] = [message]
            if claimant_plan.items:
                errors["claimant.data"] = [message]
        if errors:
            raise ValidationError(errors)
        if precondition is not None:
            precondition(locked)

        if changes:
            for name, value in changes.items():
                setattr(locked, name, value)
            # The department, when it changes, was checked against the actor's; re-reading it proves nothing.
            locked.full_clean(exclude=["department"], validate_unique=False, validate_constraints=False)
            locked._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
            locked.save(update_fields=[*changes, "updated_at"])
        claimant_apply(claimant=locked.claimant, plan=claimant_plan, actor=actor)
        for item in move.dropped:  # one by one, so each deletion is in the history with its user
            item._history_user = actor  # type: ignore[attr-defined]
            item.delete()
        if move.moved:
            bulk_update_with_history(move.moved, ClaimantData, ["field", "value"], default_user=actor)
        if move.added:
            claimant_data_for_fields(claimant=locked.claimant, fields=move.added, actor=actor)
        if "appointment_at" in changes or "duration_in_minutes" in changes:
            meeting_follow_appointment(meeting=locked.meeting, appointment=locked, actor=actor)
    return locked


def appointment_create(
    *,
    department: Department,
    appointment_at: datetime,
    duration_in_minutes: int,
    claimant: Mapping[str, Any],
    actor: Any,
    reference: str | None = None,
    **options: Any,
) -> Appointment:
    """Create a scheduled appointment with its claimant, one data item per department field, and its meeting.

    `options` are the writable representation fields (features, interpreter, redirects); `claimant["data"]`
    maps a field's name or id to its value. Raises ValidationError keyed by dot paths and writes nothing then.
    """
    errors: Errors = {}
    if not Department.objects.visible_to(actor).filter(pk=department.pk).exists():
        errors["department_id"] = ["The selected department id is invalid."]
    with transaction.atomic():
        if reference is None:
            reference = generate_reference(department=department)
        elif Appointment.objects.filter(department=department, reference=reference).exists():
            errors["reference"] = ["The reference has already been taken."]
        # New appointments take the department's feature settings unless the request sets them.
        appointment = Appointment(
            department=department, reference=reference, **{name: getattr(department, name) for name in FEATURE_FIELDS}
        )
        changes: dict[str, Any] = {}
        _plan_schedule(
            appointment, {"appointment_at": appointment_at, "duration_in_minutes": duration_in_minutes}, changes, errors
        )
        _plan_options(appointment, options, changes, errors)
        for name, value in changes.items():
            setattr(appointment, name, value)

        person = Claimant(appointment=appointment, name="")
        if _blank_name(claimant.get("name")):
            errors.setdefault("claimant.name", []).append("The claimant.name field is required.")
        plan = claimant_plan_update(
            claimant=person, data={k: v for k, v in claimant.items() if k != "data"}, errors=errors
        )
        for name, value in plan.fields.items():
            setattr(person, name, value)
        items = _new_data_items(department, claimant.get("data") or {}, errors)
        if errors:
            raise ValidationError(errors)

        appointment.full_clean(exclude=["department"], validate_unique=False, validate_constraints=False)
        appointment._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
        try:
            # A savepoint: a concurrent create may take the same client reference between check and insert.
            with transaction.atomic():
                appointment.save(force_insert=True)
        except IntegrityError:
            raise ValidationError({"reference": ["The reference has already been taken."]}) from None
        person._history_user = actor  # type: ignore[attr-defined]
        person.save(force_insert=True)
        for item in items:
            item.claimant = person
        bulk_create_with_history(items, ClaimantData, default_user=actor)
        meeting_for(appointment=appointment, actor=actor)
    return appointment


def department_for_create(*, actor: Any, department_id: Any) -> Department:
    """The department a new appointment goes to: the one named, or the caller's only department."""
    usable = Department.objects.visible_to(actor)
    if department_id is None:
        only = list(usable[:2])
        if len(only) == 1:
            return only[0]
        raise ValidationError(
            {"department_id": ["The department id field is required when the caller has more than one department."]}
            if only
            else {"department_id": ["The caller has no department to create appointments in."]}
        )
    department = usable.filter(pk=department_id).first()
    if department is None:
        raise ValidationError({"department_id": ["The selected department id is invalid."]})
    return department


def appointment_cancel(*, appointment: Appointment, reason: str | None, actor: Any) -> Appointment:
    """Cancel an appointment with an optional reason. Unlike a PATCH to `cancelled`, cancelling one that is
    already final (cancelled included) is refused, so a client learns its cancel did not happen now."""
    with transaction.atomic():
        current = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        if current.status in FINAL_STATUSES:
            raise ValidationError(
                {"status": [f"The appointment is {_status_label(current.status)} and cannot be cancelled."]}
            )
        return appointment_update(
            appointment=current, data={"status": Status.CANCELLED, "cancellation_reason": reason}, actor=actor
        )


def appointment_mark_no_shows(*, now: datetime | None = None) -> list[tuple[Appointment, str]]:
    """Turn scheduled/waiting appointments whose meeting has ended without a session into `no_show`.

    Each appointment changes in its own transaction under its row lock, so it is safe to run every minute
    beside the API: one that started meanwhile is skipped, not overwritten. Returns (appointment, old status).
    """
    now = now or timezone.now()
    due = Appointment.objects.filter(
        status__in=RESCHEDULABLE_STATUSES, session_started_at__isnull=True, meeting__end_date__lt=now
    ).order_by("meeting__end_date")
    changed: list[tuple[Appointment, str]] = []
    for candidate in due.only("pk", "status"):
        try:
            updated = appointment_update(
                appointment=candidate, data={"status": Status.NO_SHOW}, actor=None, precondition=_still_due(now)
            )
        except (ValidationError, _NoLongerDue):
            continue
        changed.append((updated, candidate.status))
    return changed


class _NoLongerDue(Exception):
    pass


def _still_due(now: datetime) -> Precondition:
    def check(locked: Appointment) -> None:
        # Re-read under the lock: a reschedule since the query may have moved the meeting into the future.
        # (A status changed meanwhile needs no check here: the transition to no_show already refuses it.)
        if locked.meeting.end_date >= now:
            raise _NoLongerDue

    return check


def _blank_name(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _new_data_items(department: Department, values: Mapping[str, Any], errors: Errors) -> list[ClaimantData]:
    """One item per department field, valued from `values` keyed by field name or id."""
    fields = list(ClaimantDataField.objects.filter(department=department))
    known = {f.name for f in fields} | {str(f.id) for f in fields}
    for key in values:
        if key not in known:
            errors.setdefault(f"claimant.data.{key}", []).append(f"The department has no claimant data field {key!r}.")
    items = []
    for data_field in fields:
        path = f"claimant.data.{data_field.name}"
        try:
            value = clean_data_value(data_field.type, values.get(data_field.name, values.get(str(data_field.id))))
        except ValueError as exc:
            errors.setdefault(path, []).append(f"The {path} field {exc}.")
            continue
        if value is None and data_field.required:
            errors.setdefault(path, []).append(f"The {path} field is required.")
        items.append(ClaimantData(field=data_field, value=value))
    return items
