"""Claimant rules on their own: plans that check without writing, their apply step, the creation rules, data
values, and changes to a department's data fields that must fit the values already stored."""

import pytest
from django.core.exceptions import ValidationError

from claimants.models import Claimant, ClaimantData, ClaimantDataField, FieldType
from claimants.services import (
    claimant_apply,
    claimant_data_field_change,
    claimant_plan_create,
    claimant_plan_update,
    clean_data_value,
    normalise_phone_number,
)
from tests.factories import ClaimantDataFieldFactory, UserFactory, make_appointment


def test_plan_then_apply_writes_changed_columns_with_history(appointment) -> None:
    actor = UserFactory.create(username="clerk")
    plan = claimant_plan_update(claimant=appointment.claimant, data={"name": " Ada King ", "email": None})
    assert plan.errors == {}
    assert plan.fields == {"name": "Ada King", "email": None}  # the phone was not sent: not part of the plan
    claimant_apply(claimant=appointment.claimant, plan=plan, actor=actor)
    fresh = Claimant.objects.get(pk=appointment.claimant.pk)
    assert (fresh.name, fresh.email, fresh.phone_number) == ("Ada King", None, "+447911123456")
    latest = Claimant.history.filter(id=fresh.pk).latest()
    assert latest.history_user == actor


def test_plan_reports_errors_and_writes_nothing(appointment) -> None:
    plan = claimant_plan_update(claimant=appointment.claimant, data={"name": "", "phone_number": "nope"})
    assert set(plan.errors) == {"claimant.name", "claimant.phone_number"}
    assert not plan
    assert Claimant.objects.get(pk=appointment.claimant.pk).name == "Ada Lovelace"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": None}])
def test_a_new_claimant_without_a_name_is_reported_once(department, body) -> None:
    draft = claimant_plan_create(department_id=department.pk, data={**body, "data": {"Case number": "C-1"}})
    assert draft.errors == {"claimant.name": ["The claimant.name field is required."]}


def test_a_new_claimant_needs_every_required_data_value(department) -> None:
    draft = claimant_plan_create(department_id=department.pk, data={"name": "Ada"})
    assert draft.errors == {"claimant.data.Case number": ["The claimant.data.Case number field is required."]}
    assert [item.field.name for item in draft.items] == ["Case number", "Incident date"]


class TestDataFieldChange:
    """A department's field changes only in ways its stored values survive (the type is re-checked)."""

    def test_type_change_that_stored_values_do_not_fit_is_refused(self, appointment) -> None:
        case = ClaimantDataField.objects.get(department=appointment.department, name="Case number")
        with pytest.raises(ValidationError) as caught:
            claimant_data_field_change(data_field=case, changes={"type": FieldType.NUMBER}, actor=None)
        assert list(caught.value.message_dict) == ["type"]
        assert "'CASE-1'" in caught.value.message_dict["type"][0]
        case.refresh_from_db()
        assert case.type == FieldType.STRING
        assert ClaimantData.objects.get(field=case).value == "CASE-1"

    def test_type_change_rewrites_values_in_the_new_canonical_form(self, department) -> None:
        flag = ClaimantDataFieldFactory.create(department=department, name="Consent", type=FieldType.STRING)
        first = make_appointment(department, claimant={"name": "A", "data": {"Case number": "1", "Consent": "1"}})
        make_appointment(department, claimant={"name": "B", "data": {"Case number": "2"}})  # Consent left empty
        actor = UserFactory.create(username="manager")
        claimant_data_field_change(data_field=flag, changes={"type": FieldType.BOOLEAN}, actor=actor)
        flag.refresh_from_db()
        assert flag.type == FieldType.BOOLEAN
        item = ClaimantData.objects.get(field=flag, claimant__appointment=first)
        assert item.value == "true"
        assert item.history.latest().history_user == actor
        assert ClaimantData.objects.filter(field=flag, value__isnull=True).count() == 1

    def test_making_a_field_required_keeps_existing_empty_values(self, appointment) -> None:
        incident = ClaimantDataField.objects.get(department=appointment.department, name="Incident date")
        claimant_data_field_change(data_field=incident, changes={"required": True}, actor=None)
        incident.refresh_from_db()
        assert incident.required is True
        assert ClaimantData.objects.get(field=incident).value is None

    def test_renaming_to_a_name_the_department_uses_is_refused(self, appointment) -> None:
        incident = ClaimantDataField.objects.get(department=appointment.department, name="Incident date")
        with pytest.raises(ValidationError):
            claimant_data_field_change(data_field=incident, changes={"name": "Case number"}, actor=None)
        incident.refresh_from_db()
        assert incident.name == "Incident date"


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
