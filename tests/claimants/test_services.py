"""claimant_update on its own (as admin code and commands may call it), and the data value rules."""

import pytest
from django.core.exceptions import ValidationError

from claimants.models import Claimant, FieldType
from claimants.services import claimant_update, clean_data_value, normalise_phone_number
from tests.factories import UserFactory


def test_claimant_update_writes_changed_columns_with_history(appointment) -> None:
    actor = UserFactory.create(username="clerk")
    claimant = claimant_update(claimant=appointment.claimant, data={"name": " Ada King ", "email": None}, actor=actor)
    fresh = Claimant.objects.get(pk=claimant.pk)
    assert (fresh.name, fresh.email, fresh.phone_number) == ("Ada King", None, "+447911123456")
    latest = Claimant.history.filter(id=claimant.pk).latest()
    assert latest.history_user == actor


def test_claimant_update_refuses_and_changes_nothing(appointment) -> None:
    with pytest.raises(ValidationError) as caught:
        claimant_update(claimant=appointment.claimant, data={"name": "", "phone_number": "nope"}, actor=None)
    assert set(caught.value.message_dict) == {"claimant.name", "claimant.phone_number"}
    assert Claimant.objects.get(pk=appointment.claimant.pk).name == "Ada Lovelace"


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (FieldType.STRING, "  text ", "text"),
        (FieldType.STRING, 12, "12"),
        (FieldType.NUMBER, 12, "12"),
        (FieldType.NUMBER, "12.50", "12.5"),
        (FieldType.NUMBER, "-0.0010", "-0.001"),
        (FieldType.NUMBER, 2.5, "2.5"),
        (FieldType.NUMBER, "1e3", "1000"),
        (FieldType.BOOLEAN, True, "true"),
        (FieldType.BOOLEAN, "0", "false"),
        (FieldType.BOOLEAN, "TRUE", "true"),
        (FieldType.DATE, "2024-02-29", "2024-02-29"),
        (FieldType.EMAIL, "a@example.com", "a@example.com"),
        (FieldType.STRING, "", None),
        (FieldType.DATE, None, None),
    ],
)
def test_values_are_stored_in_canonical_form(kind, raw, stored) -> None:
    assert clean_data_value(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (FieldType.NUMBER, True),
        (FieldType.NUMBER, "12,5"),
        (FieldType.NUMBER, float("nan")),
        (FieldType.NUMBER, "1" * 60),
        (FieldType.BOOLEAN, "yes"),
        (FieldType.BOOLEAN, 1.0),
        (FieldType.DATE, "2023-02-29"),
        (FieldType.DATE, "2024-2-1"),
        (FieldType.EMAIL, "nope"),
        (FieldType.STRING, True),
        (FieldType.STRING, "x" * 2001),
        (FieldType.STRING, "a\x00b"),
        (FieldType.STRING, ["list"]),
    ],
)
def test_invalid_values_are_refused(kind, raw) -> None:
    with pytest.raises(ValueError, match="must"):
        clean_data_value(kind, raw)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("020 7123 4567", "+442071234567"), ("+44 (0)20 7123 4567", "+442071234567"), ("+1 650 253 0000", "+16502530000")],
)
def test_phone_numbers_are_e164(raw, e164) -> None:
    assert normalise_phone_number(raw) == e164
