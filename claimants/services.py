"""Every rule about a claimant and their data: phone numbers in E.164, typed data values, required items,
data following an appointment to another department, and changes to a department's data fields.

The `*_plan_*` functions validate without writing and return what they would write together with their errors
(keyed by the dot paths of the request fields), so the appointment service can report every error of one
request together and write nothing when any is found; the `*_apply` functions write a checked plan.

Required fields: a required item must be given when the claimant is created and cannot be emptied afterwards.
An item that is empty because its field was added (or made required) later does not block other changes: the
API and the back office both accept a change that leaves it alone (docs/decisions.md).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from claimants.models import Claimant, ClaimantData, ClaimantDataField, FieldType
from config.api.fields import parse_date
from config.history import insert_with_history, stamp, update_with_history
from config.prepared import Prepared, columns, from_row

Errors = dict[str, list[str]]


def merge_errors(*parts: Errors) -> Errors:
    """Errors of several checks in one mapping, keys in the order the checks ran."""
    merged: Errors = {}
    for part in parts:
        for key, messages in part.items():
            merged.setdefault(key, []).extend(messages)
    return merged


MAX_VALUE_LENGTH = 2000
# No one living was born before 1900 (the oldest person ever recorded was born in 1875 and died in 1997): an
# earlier date of birth is a typing slip (0001-01-01, 1090 for 1990), refused before it becomes the answer the
# claimant's identity check expects.
EARLIEST_DATE_OF_BIRTH = date(1900, 1, 1)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
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


# Numbers are bounded before anything converts them: an exponent like 1e9999999 would otherwise make int() or
# format() work for minutes and write a million digits. Within these bounds every canonical form is short.
MAX_NUMBER_DIGITS = 30  # before the decimal point, and after it
# The longest text of a number read: 30 digits before the point and 30 after, with room for zeros that do not count
# (`000.5`, `1.500`), a sign and an exponent. Longer text is refused as too long, never rounded.
_MAX_NUMBER_TEXT = 100


def _canonical_number(raw: Any) -> str:
    """A number's canonical text, exact: from a string, a JSON integer, or a JSON number with a fraction or an
    exponent (a Decimal as written, config.api.parsers). A float (not from JSON) is read as its shortest repr."""
    if isinstance(raw, bool):
        raise ValueError("must be a number")
    if isinstance(raw, int):
        raw = str(raw) if abs(raw) < 10**MAX_NUMBER_DIGITS else "1e999"  # never str() a huge int
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError("must be a number")
        raw = repr(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError("must be a number")
        raw = str(raw)  # the same digits and exponent, so a JSON number obeys exactly the rule its string would
    if not isinstance(raw, str) or not _NUMBER.match(raw):
        raise ValueError("must be a number")
    too_long = ValueError(f"must be a number with at most {MAX_NUMBER_DIGITS} digits before and after the point")
    if len(raw) > _MAX_NUMBER_TEXT:
        raise too_long
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if number == 0:
        return "0"
    if not -MAX_NUMBER_DIGITS <= number.adjusted() < MAX_NUMBER_DIGITS:
        raise too_long
    with localcontext() as exact:
        exact.prec = 2 * _MAX_NUMBER_TEXT  # more digits than any accepted input has: exact, never rounded
        normal = number.normalize()
        exponent = normal.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_NUMBER_DIGITS:
            raise too_long
        if number == number.to_integral_value():
            return str(int(number))
        return format(normal, "f")


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
        if isinstance(raw, float | Decimal) or text not in _TRUE | _FALSE:  # 1e0 is no boolean
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
            return parse_date(text).isoformat()
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
    """A checked change to a claimant: new column values, the data items whose value changes, and the errors."""

    fields: dict[str, Any] = field(default_factory=dict)
    items: list[ClaimantData] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)

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
    if data.get("data") is not None:
        plan.items = _plan_data_items(claimant, data["data"], error, prefix)
    return plan


def _plan_data_items(
    claimant: Claimant, entries: Iterable[tuple[str, Mapping[str, Any]]], error: Any, prefix: str
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
            item.value = value
            changed[item.id] = item
    return list(changed.values())


def claimant_apply(*, claimant: Claimant, plan: ClaimantPlan, actor: Any) -> None:
    """Write a checked plan: only the changed columns, and all changed data items in one statement, each with
    its history rows in one more."""
    if plan.fields:
        for name, value in plan.fields.items():
            setattr(claimant, name, value)
        claimant.full_clean(exclude=["appointment"], validate_unique=False, validate_constraints=False)
        update_with_history([claimant], list(plan.fields), actor)
    update_with_history(plan.items, ["value"], actor, reason=False)


@dataclass
class ClaimantDraft:
    """A new claimant, checked and not yet written: the person, one data item per department field, errors."""

    claimant: Claimant
    items: list[ClaimantData]
    errors: Errors


def claimant_plan_create(*, department_id: Any, data: Mapping[str, Any]) -> ClaimantDraft:
    """Check the claimant of a new appointment: `name` is required; `data["data"]` maps a data field's name
    or id to its value, and every required field of the department needs one."""
    person = Claimant(name="")
    details = {key: value for key, value in data.items() if key != "data"}
    missing_name = {} if "name" in details else {"claimant.name": ["The claimant.name field is required."]}
    plan = claimant_plan_update(claimant=person, data=details)
    for name, value in plan.fields.items():
        setattr(person, name, value)
    items, item_errors = _new_data_items(department_id, data.get("data") or {})
    return ClaimantDraft(claimant=person, items=items, errors=merge_errors(missing_name, plan.errors, item_errors))


# A department's data fields in their order, compiled once (config.prepared).
_FIELDS = Prepared(
    lambda department_id: ClaimantDataField.objects.filter(department_id=department_id).values_list(
        *columns(ClaimantDataField)
    )
)


def _new_data_items(department_id: Any, values: Mapping[str, Any]) -> tuple[list[ClaimantData], Errors]:
    """One item per department field, valued from `values` keyed by field name or id."""
    errors: Errors = {}
    fields = [from_row(row, [ClaimantDataField])[0] for row in _FIELDS.rows(department_id)]
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


def claimant_create(*, draft: ClaimantDraft, appointment: Any, actor: Any) -> Claimant:
    """Write a checked draft for a newly inserted appointment: the claimant and its data items, each with
    their history rows."""
    person = draft.claimant
    person.appointment = appointment
    insert_with_history([person], actor)
    for item in draft.items:
        item.claimant = person
    insert_with_history(draft.items, actor, reason=False)
    return person


@dataclass
class DepartmentMove:
    """How a claimant's data items follow an appointment to another department."""

    moved: list[ClaimantData] = field(default_factory=list)  # re-pointed to the new department's field
    dropped: list[ClaimantData] = field(default_factory=list)  # empty items of fields the new one lacks
    added: list[ClaimantDataField] = field(default_factory=list)  # new fields that get an empty item
    errors: Errors = field(default_factory=dict)


def claimant_data_plan_move(*, claimant: Claimant, department_id: Any, plan: ClaimantPlan) -> DepartmentMove:
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


def claimant_data_apply_move(*, claimant: Claimant, move: DepartmentMove, actor: Any) -> None:
    for item in move.dropped:  # one by one, so each deletion is in the history with its user
        stamp(item, actor)
        item.delete()
    if move.moved:
        update_with_history(move.moved, ["field", "value"], actor, reason=False)
    if move.added:
        claimant_data_for_fields(claimant=claimant, fields=move.added, actor=actor)
    if move.dropped or move.moved or move.added:
        claimant.forget_data_items()


def claimant_data_for_fields(
    *, claimant: Claimant, fields: Iterable[ClaimantDataField], actor: Any
) -> list[ClaimantData]:
    """One empty data item per department field, for a new claimant or a field new to the department."""
    items = [ClaimantData(claimant=claimant, field=f) for f in fields]
    insert_with_history(items, actor, reason=False)
    return items


def claimant_data_field_added(*, data_field: ClaimantDataField, actor: Any) -> int:
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
    *, data_field: ClaimantDataField, changes: Mapping[str, Any], actor: Any
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
