"""The Appointment's API shape is declared once (appointments.shape, issue 19.2), and the declaration is the contract.

The fast representation, the schema serializer's fields, the GET test's keys and the benchmark floor's columns all
derive from `AppointmentShown`; these tests hold the declaration itself to what it must agree with: the contract's
list of keys (docs/contract.md), the model's columns (each shown, or in UNSHOWN with a reason) and the serializer.
"""

import re
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

from appointments.api.serializers import AppointmentSerializer
from appointments.models import Appointment
from appointments.shape import ADDITIVE, COLUMNS, KEYS, UNSHOWN, AppointmentShown

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"

Tree = list[tuple[str, Any]]  # keys in order, each with its nested object's keys (or None)


def contract_keys() -> Tree:
    """The contract's keys, in its order: `id, ..., department{id,name}, claimant{...,data[{id,...}]}, ...`."""
    text = CONTRACT.read_text()
    listed = re.search(r"in that order:\s*`([^`]*)`", text)
    assert listed, "docs/contract.md no longer lists the representation's keys `in that order:`"
    tokens = re.findall(r"\w+|[{}\[\],]", listed[1])
    assert "..." not in listed[1], "name every key: the list is what the shape is checked against"

    def keys() -> Tree:
        found: Tree = []
        while tokens and tokens[0] not in "}]":
            name, nested = tokens.pop(0), None
            if tokens and tokens[0] in "{[":
                closing = ["}"] if tokens.pop(0) == "{" else ["}", "]"]
                if tokens[0] == "{":
                    tokens.pop(0)
                nested = keys()
                for expected in closing:
                    assert tokens.pop(0) == expected
            found.append((name, nested))
            if tokens and tokens[0] == ",":
                tokens.pop(0)
        return found

    return keys()


def declared_keys(shape: type, *, additive: bool = False) -> Tree:
    """A TypedDict's keys in order, with nested objects' (and a list's items') keys; additive keys only if asked."""
    found: Tree = []
    for key, hint in get_type_hints(shape, include_extras=True).items():
        if key in shape.__optional_keys__ and not additive:  # type: ignore[attr-defined]
            continue
        inner = get_args(hint)[0] if get_args(hint) and not is_typeddict(hint) else hint
        if get_origin(inner) is list:
            inner = get_args(inner)[0]
        found.append((key, declared_keys(inner) if is_typeddict(inner) else None))
    return found


def test_the_shape_is_the_contracts_list_in_its_order() -> None:
    assert declared_keys(AppointmentShown) == contract_keys()


def test_additive_keys_come_after_the_contracts_and_are_not_required() -> None:
    assert AppointmentShown.__optional_keys__ == ADDITIVE
    assert KEYS[-len(ADDITIVE) :] == tuple(key for key in KEYS if key in ADDITIVE)


def test_every_appointment_column_is_shown_or_said_why_not() -> None:
    """A column added to Appointment fails here until it is a key of AppointmentShown or named in UNSHOWN."""
    columns = {field.attname for field in Appointment._meta.concrete_fields}
    shown = {path for path in COLUMNS if "__" not in path}
    assert sorted(shown - columns) == [], "a Column names no column of Appointment"
    assert not shown & UNSHOWN.keys()
    assert sorted(columns - shown - UNSHOWN.keys()) == [], "add it to AppointmentShown, or to UNSHOWN with why"
    assert sorted(UNSHOWN.keys() - columns) == []


def test_the_schema_serializer_has_the_shapes_keys_in_its_order() -> None:
    serializer = AppointmentSerializer()
    assert list(serializer.fields) == list(KEYS)
    assert [key for key, field in serializer.fields.items() if not field.read_only] == [
        k for k in KEYS if k in ADDITIVE
    ]
    assert all(not serializer.fields[key].required for key in ADDITIVE)
