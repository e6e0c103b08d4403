"""JSON numbers keep their exact value or are refused (issue 18.6): a number read as a binary float lost digits
silently (`123456789012345678901234567890.5` was stored as `123456789012345680000000000000`, `1e-999999` as
`0`). Bodies are sent as raw text, so each literal reaches the server exactly as written."""

from decimal import Decimal

import pytest

from appointments.models import Appointment
from claimants.models import ClaimantData, ClaimantDataField, FieldType
from claimants.services import claimant_data_field_added
from config.api.parsers import JSONParser
from tests.helpers import data_item, patch_url, snapshot

URL = "/api/v1/appointments"


@pytest.fixture
def amount(department, appointment) -> ClaimantData:
    """A number field, and the fixture appointment's item of it."""
    field = ClaimantDataField.objects.create(department=department, name="Amount", type=FieldType.NUMBER, position=2)
    claimant_data_field_added(data_field=field, actor=None)
    return data_item(appointment, "Amount")


def patch_raw(api, appointment, body: str):
    return api.generic("PATCH", patch_url(appointment), body.encode(), content_type="application/json")


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        ("123456789012345678901234567890.5", "123456789012345678901234567890.5"),
        ("0.1", "0.1"),
        ("0.30000000000000004441", "0.30000000000000004441"),
        ("2.50", "2.5"),
        ("1e2", "100"),
        ("-1.5E-3", "-0.0015"),
        ("0.000000000000000000000000000001", "0.000000000000000000000000000001"),
        ("123456789012345678901234567890.123456789012345678901234567890",
         "123456789012345678901234567890.12345678901234567890123456789"),
    ],
)  # fmt: skip
def test_a_json_number_keeps_its_exact_value(api, appointment, amount, literal, stored) -> None:
    response = patch_raw(api, appointment, f'{{"claimant": {{"data": [{{"id": "{amount.pk}", "value": {literal}}}]}}}}')
    assert response.status_code == 200, response.json()
    amount.refresh_from_db()
    assert amount.value == stored
    answered = {item["name"]: item["value"] for item in response.json()["data"]["claimant"]["data"]}
    assert answered["Amount"] == stored


@pytest.mark.parametrize(
    "literal",
    ["1e-999999", "1e999999", "1234567890123456789012345678901.5", "0.0000000000000000000000000000001", "1e31"],
)
def test_a_json_number_beyond_the_rule_is_a_422_and_changes_nothing(api, appointment, amount, literal) -> None:
    before = snapshot(appointment)
    response = patch_raw(api, appointment, f'{{"claimant": {{"data": [{{"id": "{amount.pk}", "value": {literal}}}]}}}}')
    assert response.status_code == 422
    assert response.json()["errors"]["claimant.data.0.value"] == [
        "The claimant.data.0.value field (Amount) must be a number with at most 30 digits before and after the point."
    ]
    assert snapshot(appointment) == before


def test_a_create_keeps_the_exact_number_too(api, department, amount) -> None:
    body = (
        '{"appointment_at": "2031-01-01T09:00:00Z", "duration_in_minutes": 30, "claimant": {"name": "N", '
        '"data": {"Case number": "C-1", "Amount": 123456789012345678901234567890.5}}}'
    )
    response = api.generic("POST", URL, body.encode(), content_type="application/json")
    assert response.status_code == 201, response.json()
    created = Appointment.objects.get(pk=response.json()["data"]["id"])
    assert data_item(created, "Amount").value == "123456789012345678901234567890.5"


@pytest.mark.parametrize("literal", ["60.0", "6e1", "6.0E1", "60.000"])
def test_an_integer_written_with_a_point_or_an_exponent_is_that_integer(api, appointment, literal) -> None:
    """As the original's `integer` rule reads a JSON number: its value, whatever the notation."""
    response = patch_raw(api, appointment, f'{{"duration_in_minutes": {literal}}}')
    assert response.status_code == 200, response.json()
    appointment.refresh_from_db()
    assert appointment.duration_in_minutes == 60


@pytest.mark.parametrize("literal", ["60.5", "1e999999", "1e-999999", "6.00000000000000000001e1"])
def test_an_integer_field_refuses_a_fraction_or_a_huge_exponent(api, appointment, literal) -> None:
    before = snapshot(appointment)
    response = patch_raw(api, appointment, f'{{"duration_in_minutes": {literal}}}')
    assert response.status_code == 422
    assert response.json()["errors"] == {"duration_in_minutes": ["A valid integer is required."]}
    assert snapshot(appointment) == before


@pytest.mark.parametrize("literal", ["1.0", "0.0", "1e0"])
def test_a_boolean_is_true_false_1_or_0_and_not_a_decimal(api, appointment, literal) -> None:
    """As the original's `boolean` rule (a strict match against true, false, 1, 0, "1", "0")."""
    before = snapshot(appointment)
    response = patch_raw(api, appointment, f'{{"features_messages_chat_enable": {literal}}}')
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["features_messages_chat_enable"]
    assert snapshot(appointment) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(api, appointment, literal) -> None:
    before = snapshot(appointment)
    response = patch_raw(api, appointment, f'{{"duration_in_minutes": {literal}}}')
    assert response.status_code == 400
    assert response.json() == {"message": "The request body is not valid JSON."}
    assert snapshot(appointment) == before


def test_the_parser_reads_fractions_and_exponents_as_decimals_and_integers_as_integers() -> None:
    parsed = JSONParser().parse(_Stream(b'{"a": 0.1, "b": 1e-999999, "c": 7, "d": [2.50]}'))
    assert parsed == {"a": Decimal("0.1"), "b": Decimal("1e-999999"), "c": 7, "d": [Decimal("2.50")]}
    assert type(parsed["c"]) is int


class _Stream:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def read(self) -> bytes:
        return self.raw


def test_a_text_field_takes_an_integer_as_its_digits_but_not_a_decimal(api, appointment) -> None:
    before = snapshot(appointment)
    response = patch_raw(api, appointment, '{"claimant": {"name": 1.5}}')
    assert response.status_code == 422
    assert response.json()["errors"] == {"claimant.name": ["Not a valid string."]}
    assert snapshot(appointment) == before
    assert patch_raw(api, appointment, '{"claimant": {"name": 15}}').status_code == 200
    assert Appointment.objects.select_related("claimant").get(pk=appointment.pk).claimant.name == "15"
