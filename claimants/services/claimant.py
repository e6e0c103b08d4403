"""A claimant and their data items: a new claimant checked and written with a new appointment, and a partial change
to one, checked without writing (`*_plan_*`) and then written (`*_apply`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from claimants.models import Claimant, ClaimantData, ClaimantDataField
from claimants.selectors import department_data_fields
from claimants.services.values import (
    EARLIEST_DATE_OF_BIRTH,
    Errors,
    clean_data_value,
    merge_errors,
    normalise_phone_number,
)
from config.actors import Actor
from config.history import insert_with_history, update_with_history
from config.languages import SPOKEN, spoken


@dataclass
class ClaimantPlan:
    """A checked change to a claimant: new column values, the data items whose value changes, and the errors."""

    fields: dict[str, Any] = field(default_factory=dict)
    items: list[ClaimantData] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)
    # The values the changed data items held before (by the item's id): what the ledger records as old.
    items_before: dict[uuid.UUID, str | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fields or self.items)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def claimant_plan_update(*, claimant: Claimant, data: Mapping[str, Any], prefix: str = "claimant") -> ClaimantPlan:
    """Check a partial change to a claimant and its data, without writing.

    `data` holds only the keys to change. `data["data"]` is a list of `(key, {"id", "value"})` pairs, the key
    being the item's position in the request, so errors name what the client sent (`claimant.data.3.value`).
    """
    plan = ClaimantPlan()

    def error(path: str, message: str) -> None:
        plan.errors.setdefault(f"{prefix}.{path}", []).append(message)

    if "name" in data:
        if _blank(data["name"]):
            error("name", f"The {prefix}.name field is required.")
        elif data["name"].strip() != claimant.name:
            plan.fields["name"] = data["name"].strip()
    if "phone_number" in data:
        phone = None
        if not _blank(data["phone_number"]):
            try:
                phone = normalise_phone_number(data["phone_number"])
            except ValueError as exc:
                error("phone_number", f"The {prefix}.phone_number field {exc}.")
        if phone != claimant.phone_number and f"{prefix}.phone_number" not in plan.errors:
            plan.fields["phone_number"] = phone
    if "email" in data:
        email = None if _blank(data["email"]) else data["email"].strip()
        if email is not None:
            try:
                validate_email(email)
            except ValidationError:
                error("email", f"The {prefix}.email field must be a valid email address.")
        if email != claimant.email and f"{prefix}.email" not in plan.errors:
            plan.fields["email"] = email
    if "date_of_birth" in data:
        born: date | None = data["date_of_birth"]
        if born is not None and born > timezone.localdate():
            error("date_of_birth", f"The {prefix}.date_of_birth field must be a date before or equal to today.")
        elif born is not None and born < EARLIEST_DATE_OF_BIRTH:
            error(
                "date_of_birth",
                f"The {prefix}.date_of_birth field must be a date after or equal to {EARLIEST_DATE_OF_BIRTH}.",
            )
        elif born != claimant.date_of_birth:
            plan.fields["date_of_birth"] = born
    if "preferred_language" in data:
        language = None if _blank(data["preferred_language"]) else spoken(data["preferred_language"])
        if not _blank(data["preferred_language"]) and language != data["preferred_language"]:
            error("preferred_language", f"The {prefix}.preferred_language field must be one of: {', '.join(SPOKEN)}.")
        elif language != claimant.preferred_language:
            plan.fields["preferred_language"] = language
    if data.get("data") is not None:
        plan.items = _plan_data_items(claimant, data["data"], error, prefix, plan.items_before)
    return plan


def _plan_data_items(
    claimant: Claimant,
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    error: Callable[[str, str], None],
    prefix: str,
    before: dict[uuid.UUID, str | None],
) -> list[ClaimantData]:
    existing = {item.id: item for item in claimant.data_items()}
    changed: dict[uuid.UUID, ClaimantData] = {}
    seen: set[uuid.UUID] = set()
    for key, entry in entries:
        item_id = entry["id"]
        item = existing.get(item_id)
        if item is None:
            error(f"data.{key}.id", f"The selected {prefix}.data.{key}.id is invalid.")
            continue
        if item_id in seen:
            error(f"data.{key}.id", f"The {prefix}.data.{key}.id field has a duplicate value.")
            continue
        seen.add(item_id)
        try:
            value = clean_data_value(item.field.type, entry["value"])
        except ValueError as exc:
            error(f"data.{key}.value", f"The {prefix}.data.{key}.value field ({item.field.name}) {exc}.")
            continue
        if value is None and item.field.required:
            error(f"data.{key}.value", f"The {prefix}.data.{key}.value field ({item.field.name}) is required.")
            continue
        if value != item.value:
            before.setdefault(item.id, item.value)
            item.value = value
            changed[item.id] = item
    return list(changed.values())


def claimant_apply(*, claimant: Claimant, plan: ClaimantPlan, actor: Actor) -> None:
    """Write a checked plan: only the changed columns, and all changed data items in one statement, each with
    its history rows in one more."""
    claimant_set(claimant=claimant, plan=plan)
    if plan.fields:
        update_with_history([claimant], list(plan.fields), actor)
    update_with_history(plan.items, ["value"], actor, reason=False)


def claimant_set(*, claimant: Claimant, plan: ClaimantPlan) -> None:
    """A checked plan's columns set on the claimant in memory and checked as a row (the items' values are set by the
    plan itself): what `claimant_apply` writes, and what a dry run shows without writing."""
    if plan.fields:
        for name, value in plan.fields.items():
            setattr(claimant, name, value)
        claimant.full_clean(exclude=["appointment"], validate_unique=False, validate_constraints=False)


@dataclass
class ClaimantDraft:
    """A new claimant, checked and not yet written: the person, one data item per department field, errors."""

    claimant: Claimant
    items: list[ClaimantData]
    errors: Errors


def claimant_plan_create(
    *, department_id: uuid.UUID, data: Mapping[str, Any], fields: Sequence[ClaimantDataField] | None = None
) -> ClaimantDraft:
    """Check the claimant of a new appointment: `name` is required; `data["data"]` maps a data field's name
    or id to its value, and every required field of the department needs one. `fields`: the department's data
    fields in their order, when its caller read them already (else they are read here)."""
    person = Claimant(name="")
    details = {key: value for key, value in data.items() if key != "data"}
    missing_name = {} if "name" in details else {"claimant.name": ["The claimant.name field is required."]}
    plan = claimant_plan_update(claimant=person, data=details)
    for name, value in plan.fields.items():
        setattr(person, name, value)
    if fields is None:
        fields = department_data_fields(department_id)
    items, item_errors = _new_data_items(fields, data.get("data") or {})
    return ClaimantDraft(claimant=person, items=items, errors=merge_errors(missing_name, plan.errors, item_errors))


def _new_data_items(
    fields: Sequence[ClaimantDataField], values: Mapping[str, Any]
) -> tuple[list[ClaimantData], Errors]:
    """One item per department field (`fields`, in their order), valued from `values` keyed by field name or id."""
    errors: Errors = {}
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
    return items, errors


def claimant_create(*, draft: ClaimantDraft, appointment: Any, actor: Actor) -> Claimant:
    """Write a checked draft for a newly inserted appointment: the claimant and its data items, each with
    their history rows."""
    person = draft.claimant
    person.appointment = appointment
    insert_with_history([person], actor)
    for item in draft.items:
        item.claimant = person
    insert_with_history(draft.items, actor, reason=False)
    return person
