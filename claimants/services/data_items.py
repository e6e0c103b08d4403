"""A claimant's data items when their department changes: an appointment moved to another department, a data
field added to a department or changed in type."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from claimants.models import Claimant, ClaimantData, ClaimantDataField
from claimants.services.claimant import ClaimantPlan
from claimants.services.values import Errors, clean_data_value
from config.actors import Actor
from config.history import insert_with_history, stamp, update_with_history


@dataclass
class DepartmentMove:
    """How a claimant's data items follow an appointment to another department."""

    moved: list[ClaimantData] = field(default_factory=list)  # re-pointed to the new department's field
    dropped: list[ClaimantData] = field(default_factory=list)  # empty items of fields the new one lacks
    added: list[ClaimantDataField] = field(default_factory=list)  # new fields that get an empty item
    errors: Errors = field(default_factory=dict)


def claimant_data_plan_move(*, claimant: Claimant, department_id: uuid.UUID, plan: ClaimantPlan) -> DepartmentMove:
    """Carry the claimant's data (with the changes `plan` makes) over to another department's fields, matched
    by name and type.

    Refused (errors on department_id) where a value would be lost or a required field would stay empty: moving
    an appointment never drops data silently; only empty items of fields the new department lacks go.
    """
    planned = {item.id: item.value for item in plan.items}
    items = list(ClaimantData.objects.filter(claimant=claimant).select_related("field"))
    new_fields = {(f.name, f.type): f for f in ClaimantDataField.objects.filter(department_id=department_id)}
    move = DepartmentMove()

    def error(message: str) -> None:
        move.errors.setdefault("department_id", []).append(message)

    for item in items:
        value = planned.get(item.id, item.value)
        target = new_fields.pop((item.field.name, item.field.type), None)
        if target is None:
            if value is not None:
                error(f"The selected department does not collect {item.field.name!r}, which has a value.")
            move.dropped.append(item)
            continue
        if target.required and value is None:
            error(f"The selected department requires {target.name!r}.")
        item.field = target
        item.value = value
        move.moved.append(item)
    for missing in new_fields.values():
        if missing.required:
            error(f"The selected department requires {missing.name!r}.")
    move.added = list(new_fields.values())
    return move


def claimant_data_apply_move(*, claimant: Claimant, move: DepartmentMove, actor: Actor) -> None:
    for item in move.dropped:  # one by one, so each deletion is in the history with its user
        stamp(item, actor)
        item.delete()
    if move.moved:
        update_with_history(move.moved, ["field", "value"], actor, reason=False)
    if move.added:
        claimant_data_for_fields(claimant=claimant, fields=move.added, actor=actor)
    if move.dropped or move.moved or move.added:
        claimant.forget_data_items()


def claimant_data_moved(*, claimant: Claimant, move: DepartmentMove) -> list[ClaimantData] | None:
    """The claimant's data items as a planned move leaves them, in memory and in the new department's order (the
    order `Claimant.data_items()` reads), or None when the move changes no item. The items it would add are new
    instances: their ids are drawn here and not kept (a dry run shows them; the move draws its own)."""
    if not (move.dropped or move.moved or move.added):
        return None
    items = [*move.moved, *(ClaimantData(claimant=claimant, field=data_field) for data_field in move.added)]
    return sorted(items, key=lambda item: (item.field.position, item.field.name))


def claimant_data_for_fields(
    *, claimant: Claimant, fields: Iterable[ClaimantDataField], actor: Actor
) -> list[ClaimantData]:
    """One empty data item per department field, for a new claimant or a field new to the department."""
    items = [ClaimantData(claimant=claimant, field=f) for f in fields]
    insert_with_history(items, actor, reason=False)
    return items


def claimant_data_field_added(*, data_field: ClaimantDataField, actor: Actor) -> int:
    """Give every claimant of the field's department an empty item for a field new to the department, so each
    claimant keeps one item per field. Returns how many items were created.

    The back office saves a new field with the department's form (the field may belong to a department created
    in the same form) and then calls this, inside the same transaction."""
    missing = Claimant.objects.filter(appointment__department_id=data_field.department_id).exclude(
        data__field=data_field
    )
    items = [ClaimantData(claimant=claimant, field=data_field) for claimant in missing.only("pk")]
    for start in range(0, len(items), _BATCH):
        insert_with_history(items[start : start + _BATCH], actor, reason=False)
    return len(items)


# Rows a statement writes at most when a field's change reaches every claimant of a department (with their
# history rows, copied in one more statement): well under PostgreSQL's 65,535 parameters.
_BATCH = 1000

# How many offending values a refused field change names, so the message stays readable.
_SHOWN_VALUES = 3


def claimant_data_field_plan_change(
    *, data_field: ClaimantDataField, changes: Mapping[str, Any]
) -> tuple[list[ClaimantData], Errors]:
    """Check a change to a department's data field against the values it holds, without writing.

    A new `type` must accept every value already stored (each is re-read in the new type's canonical form,
    which is what is returned to write); otherwise the change is refused, naming the values that do not fit.
    `required` is a rule for values written from now on (see the module's docstring), so it never refuses.
    """
    new_type = changes.get("type", data_field.type)
    if new_type == data_field.type:
        return [], {}
    converted: list[ClaimantData] = []
    misfits: list[str] = []
    values = ClaimantData.objects.filter(field=data_field, value__isnull=False).order_by("pk")
    for item in values.only("pk", "value", "field_id"):
        try:
            value = clean_data_value(new_type, item.value)
        except ValueError:
            misfits.append(str(item.value))
            continue
        if value != item.value:
            item.value = value
            converted.append(item)
    if not misfits:
        return converted, {}
    shown = ", ".join(repr(value) for value in misfits[:_SHOWN_VALUES])
    more = f" and {len(misfits) - _SHOWN_VALUES} more" if len(misfits) > _SHOWN_VALUES else ""
    message = (
        f"The type cannot change to {new_type}: {len(misfits)} stored value{'s' if len(misfits) != 1 else ''} "
        f"would not be valid ({shown}{more}). Correct or empty them first."
    )
    return [], {"type": [message]}


def claimant_data_field_change(
    *, data_field: ClaimantDataField, changes: Mapping[str, Any], actor: Actor
) -> ClaimantDataField:
    """Change a department's data field (name, type, required, position), re-validating the values it holds.

    Runs under the field's row lock, so a value written meanwhile is checked too; values are rewritten in the
    new type's canonical form with their history. Raises ValidationError keyed by the field's attributes.
    """
    with transaction.atomic():
        locked = ClaimantDataField.objects.select_for_update().get(pk=data_field.pk)
        converted, errors = claimant_data_field_plan_change(data_field=locked, changes=changes)
        if errors:
            raise ValidationError(errors)
        updated = [name for name, value in changes.items() if getattr(locked, name) != value]
        for name in updated:
            setattr(locked, name, changes[name])
        if updated:
            locked.full_clean()  # with the department: the name is unique within it
            locked.save(update_fields=updated)
        if converted:
            for start in range(0, len(converted), _BATCH):
                update_with_history(converted[start : start + _BATCH], ["value"], actor, reason=False)
    return locked
