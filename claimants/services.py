"""Rules about a claimant and their data: phone numbers in E.164, typed data values, required items.

`claimant_plan_update` validates a change and collects its errors under dot paths, without writing, so the
appointment service can report every error of one request together and write nothing when any is found.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from claimants.models import Claimant, ClaimantData, ClaimantDataField, FieldType

Errors = dict[str, list[str]]

MAX_VALUE_LENGTH = 2000
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def normalise_phone_number(raw: str) -> str:
    """The number in E.164 (`+447700900123`); numbers without a `+` are read in PHONE_DEFAULT_REGION."""
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("must be a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("must be a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _canonical_number(raw: Any) -> str:
    if isinstance(raw, bool):
        raise ValueError("must be a number")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError("must be a number")
        raw = repr(raw)
    if not isinstance(raw, str) or not _NUMBER.match(raw) or len(raw) > 50:
        raise ValueError("must be a number")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def clean_data_value(field_type: str, raw: Any) -> str | None:
    """A data value in its canonical text form, or None for empty; ValueError says what is wrong."""
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if raw is None:
        return None
    if isinstance(raw, Mapping | list):
        raise ValueError("must be a string, a number or a boolean")
    if field_type == FieldType.NUMBER:
        return _canonical_number(raw)
    if field_type == FieldType.BOOLEAN:
        text = str(raw).lower() if not isinstance(raw, bool) else ("true" if raw else "false")
        if isinstance(raw, float) or text not in _TRUE | _FALSE:
            raise ValueError("must be true or false")
        return "true" if text in _TRUE else "false"
    if isinstance(raw, bool):
        raise ValueError("must be a string")
    text = str(raw)
    if "\x00" in text:
        raise ValueError("must not contain null characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError(f"must not be longer than {MAX_VALUE_LENGTH} characters")
    if field_type == FieldType.DATE:
        try:
            if not _DATE.match(text):
                raise ValueError
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("must be a date in the format YYYY-MM-DD") from None
    if field_type == FieldType.EMAIL:
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError("must be a valid email address") from None
    return text


@dataclass
class ClaimantPlan:
    """A validated change to a claimant: new column values and the data items whose value changes."""

    fields: dict[str, Any] = field(default_factory=dict)
    items: list[ClaimantData] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.items)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def claimant_plan_update(
    *, claimant: Claimant, data: Mapping[str, Any], errors: Errors, prefix: str = "claimant"
) -> ClaimantPlan:
    """Check a partial change to a claimant and its data; errors go into `errors` under dot paths.

    `data` holds only the keys to change. `data["data"]` is a list of `(key, {"id", "value"})` pairs, the key
    being the item's position in the request, so errors name what the client sent (`claimant.data.3.value`).
    """
    plan = ClaimantPlan()

    def error(path: str, message: str) -> None:
        errors.setdefault(f"{prefix}.{path}", []).append(message)

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
        if phone != claimant.phone_number and f"{prefix}.phone_number" not in errors:
            plan.fields["phone_number"] = phone
    if "email" in data:
        email = None if _blank(data["email"]) else data["email"].strip()
        if email is not None:
            try:
                validate_email(email)
            except ValidationError:
                error("email", f"The {prefix}.email field must be a valid email address.")
        if email != claimant.email and f"{prefix}.email" not in errors:
            plan.fields["email"] = email
    if "date_of_birth" in data:
        born: date | None = data["date_of_birth"]
        if born is not None and born > timezone.localdate():
            error("date_of_birth", f"The {prefix}.date_of_birth field must be a date before or equal to today.")
        elif born != claimant.date_of_birth:
            plan.fields["date_of_birth"] = born
    if data.get("data") is not None:
        plan.items = _plan_data_items(claimant, data["data"], error, prefix)
    return plan


def _plan_data_items(
    claimant: Claimant, entries: Iterable[tuple[str, Mapping[str, Any]]], error: Any, prefix: str
) -> list[ClaimantData]:
    existing = {item.id: item for item in ClaimantData.objects.filter(claimant=claimant).select_related("field")}
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
            item.value = value
            changed[item.id] = item
    return list(changed.values())


def claimant_apply(*, claimant: Claimant, plan: ClaimantPlan, actor: Any) -> None:
    """Write a checked plan: only the changed columns, and all changed data items in one statement (with
    their history rows in one more)."""
    if plan.fields:
        for name, value in plan.fields.items():
            setattr(claimant, name, value)
        claimant.full_clean(exclude=["appointment"], validate_unique=False, validate_constraints=False)
        claimant._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
        claimant.save(update_fields=list(plan.fields))
    if plan.items:
        bulk_update_with_history(plan.items, ClaimantData, ["value"], default_user=actor)


def claimant_update(*, claimant: Claimant, data: Mapping[str, Any], actor: Any) -> Claimant:
    """Change a claimant on its own (admin, commands); raises ValidationError keyed by dot paths."""
    errors: Errors = {}
    with transaction.atomic():
        locked = Claimant.objects.select_for_update().get(pk=claimant.pk)
        plan = claimant_plan_update(claimant=locked, data=data, errors=errors)
        if errors:
            raise ValidationError(errors)
        claimant_apply(claimant=locked, plan=plan, actor=actor)
    return locked


def claimant_data_for_fields(
    *, claimant: Claimant, fields: Iterable[ClaimantDataField], actor: Any
) -> list[ClaimantData]:
    """One empty data item per department field, for a new claimant or a field new to the department."""
    items = [ClaimantData(claimant=claimant, field=f) for f in fields]
    return list(bulk_create_with_history(items, ClaimantData, default_user=actor))


def claimant_data_field_added(*, data_field: ClaimantDataField, actor: Any) -> int:
    """Give every claimant of the field's department an empty item for a field new to the department, so each
    claimant keeps one item per field. Returns how many items were created."""
    missing = Claimant.objects.filter(appointment__department_id=data_field.department_id).exclude(
        data__field=data_field
    )
    items = [ClaimantData(claimant=claimant, field=data_field) for claimant in missing.only("pk")]
    bulk_create_with_history(items, ClaimantData, default_user=actor, batch_size=1000)
    return len(items)
