"""Input that was accepted leniently and is now refused (issue 18.9): one time format for bodies and list filters,
a floor for dates of birth, and a body none of whose keys is known (JSON sent as a form) is a 422 naming them,
while a body with some known keys still ignores the others (the contract)."""

from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from appointments.models import Appointment, Status
from claimants.services import claimant_plan_update
from config.api.fields import DATE_PATTERN, TIME_PATTERN
from tests.factories import make_appointment
from tests.helpers import patch_url, snapshot

URL = "/api/v1/appointments"

# Each is a time in no format of the API's rule, or with an offset the database cannot hold.
NOT_A_TIME = [
    "2031-01-01",  # a date
    "20310101T000000Z",  # ISO 8601's basic format
    "2031-W01-1",  # a week date
    "2031-001T09:00:00Z",  # an ordinal date
    "2031-01-01T09:00:00+16:00",
    "2031-01-01T09:00:00+23:59",
    "2031-01-01T09:00:00-16:00",
    "2031-01-01T09:00:00+01",  # an offset without minutes
    "2031-01-01T09",  # an hour alone
    "2031-01-01T09:00:00 Z",
    "2031-01-01T09:00:60Z",  # a leap second, which a time here cannot hold
    "2031-02-30T09:00:00Z",
    " 2031-01-01T09:00:00Z",
    "2031-01-01T09:00:00.1234567890Z",  # finer than a nanosecond
    "\uff12\uff10\uff13\uff11-01-01T09:00:00Z",  # digits, but not ASCII ones (fullwidth 2031)
]

# Each is a time in the rule, and the UTC time it is.
TIMES = [
    ("2031-01-01T09:00:00Z", datetime(2031, 1, 1, 9, tzinfo=UTC)),
    ("2031-01-01T09:00:00.250Z", datetime(2031, 1, 1, 9, 0, 0, 250000, tzinfo=UTC)),
    ("2031-01-01T09:00:00.123456789Z", datetime(2031, 1, 1, 9, 0, 0, 123456, tzinfo=UTC)),
    ("2031-01-01T09:00:00", datetime(2031, 1, 1, 9, tzinfo=UTC)),  # no offset: UTC
    ("2031-01-01 09:00:00", datetime(2031, 1, 1, 9, tzinfo=UTC)),  # the original's own form example
    ("2031-01-01T09:00", datetime(2031, 1, 1, 9, tzinfo=UTC)),
    ("2031-01-01T10:00:00+01:00", datetime(2031, 1, 1, 9, tzinfo=UTC)),
    ("2031-01-01T10:00:00+0100", datetime(2031, 1, 1, 9, tzinfo=UTC)),  # PHP's DATE_ISO8601
    ("2031-01-02T00:59:00+15:59", datetime(2031, 1, 1, 9, tzinfo=UTC)),
    ("2030-12-31T17:01:00-15:59", datetime(2031, 1, 1, 9, tzinfo=UTC)),
    ("2031-01-01t09:00:00z", datetime(2031, 1, 1, 9, tzinfo=UTC)),  # RFC 3339 allows lower case
]


def create_body(when: str, **claimant: Any) -> dict[str, Any]:
    return {
        "appointment_at": when,
        "duration_in_minutes": 30,
        "claimant": {"name": "Jan Kowalski", "data": {"Case number": "C-9"}, **claimant},
    }


class TestOneTimeFormat:
    @pytest.mark.parametrize("when", NOT_A_TIME)
    def test_a_body_refuses_what_is_not_a_time_in_the_rule(self, api, appointment, when) -> None:
        before = snapshot(appointment)
        response = api.patch(patch_url(appointment), {"appointment_at": when}, format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["appointment_at"]
        assert snapshot(appointment) == before
        count = Appointment.objects.count()
        assert api.post(URL, create_body(when), format="json").status_code == 422
        assert Appointment.objects.count() == count

    @pytest.mark.parametrize("when", NOT_A_TIME)
    def test_the_list_filters_refuse_the_same(self, api, appointment, when) -> None:
        for name in ("appointment_at_from", "appointment_at_to"):
            response = api.get(URL, {name: when})
            assert response.status_code == 422
            assert list(response.json()["errors"]) == [name]

    @pytest.mark.parametrize(("when", "utc"), TIMES)
    def test_a_body_reads_a_time_in_the_rule_in_utc(self, api, appointment, when, utc) -> None:
        response = api.patch(patch_url(appointment), {"appointment_at": when}, format="json")
        assert response.status_code == 200, response.json()
        appointment.refresh_from_db()
        assert appointment.appointment_at == utc
        created = api.post(URL, create_body(when), format="json")
        assert created.status_code == 201, created.json()
        assert Appointment.objects.get(pk=created.json()["data"]["id"]).appointment_at == utc

    @pytest.mark.parametrize(("when", "utc"), TIMES)
    def test_the_list_filters_read_the_same_time(self, api, department, when, utc) -> None:
        make_appointment(department, reference="AT", appointment_at=utc)
        make_appointment(department, reference="LATER", appointment_at=datetime(2031, 1, 2, 9, tzinfo=UTC))
        response = api.get(URL, {"appointment_at_from": when, "appointment_at_to": when})
        assert response.status_code == 200, response.json()
        assert [row["reference"] for row in response.json()["data"]] == ["AT"]

    def test_the_schema_says_the_rule_once_for_bodies_and_filters(self) -> None:
        out = StringIO()
        call_command("spectacular", stdout=out)
        schema = yaml.safe_load(out.getvalue())
        components = schema["components"]["schemas"]
        body = components["PatchedAppointmentUpdateRequest"]["properties"]["appointment_at"]
        form = components["PatchedAppointmentUpdateRequestForm"]["properties"]["appointment_at"]
        listing = schema["paths"]["/api/v1/appointments"]["get"]["parameters"]
        filters = [p["schema"] for p in listing if p["name"].startswith("appointment_at_")]
        assert len(filters) == 2
        assert components["ClaimantUpdateRequest"]["properties"]["date_of_birth"]["pattern"] == DATE_PATTERN
        for described in (body, form, *filters):
            assert described["type"] == "string"
            assert described["format"] == "date-time"
            assert described["pattern"] == TIME_PATTERN


class TestDateOfBirth:
    @pytest.mark.parametrize("born", ["0001-01-01", "1899-12-31"])
    def test_before_the_floor_is_a_422(self, api, appointment, born) -> None:
        before = snapshot(appointment)
        response = api.patch(patch_url(appointment), {"claimant": {"date_of_birth": born}}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "claimant.date_of_birth": ["The claimant.date_of_birth field must be a date after or equal to 1900-01-01."]
        }
        assert snapshot(appointment) == before
        created = api.post(URL, create_body("2031-01-01T09:00:00Z", date_of_birth=born), format="json")
        assert created.status_code == 422
        assert list(created.json()["errors"]) == ["claimant.date_of_birth"]

    def test_the_floor_itself_is_a_date_of_birth(self, api, appointment) -> None:
        response = api.patch(patch_url(appointment), {"claimant": {"date_of_birth": "1900-01-01"}}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["data"]["claimant"]["date_of_birth"] == "1900-01-01"

    def test_the_back_office_meets_the_same_floor(self, appointment) -> None:
        """The back office's change page writes through the same service."""
        plan = claimant_plan_update(claimant=appointment.claimant, data={"date_of_birth": date(1850, 1, 1)})
        assert list(plan.errors) == ["claimant.date_of_birth"]

    @pytest.mark.parametrize("born", ["19900517", "1990-W20-1", "1990-137", "1990-05-17T00:00:00Z", "17/05/1990"])
    def test_a_date_is_written_yyyy_mm_dd(self, api, appointment, born) -> None:
        before = snapshot(appointment)
        response = api.patch(patch_url(appointment), {"claimant": {"date_of_birth": born}}, format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["claimant.date_of_birth"]
        assert snapshot(appointment) == before


class TestUnknownKeys:
    def test_json_sent_as_a_form_is_a_422_naming_what_was_read(self, api, appointment) -> None:
        before = snapshot(appointment)
        text = '{"duration_in_minutes": 45}'
        response = api.generic(
            "PATCH", patch_url(appointment), text.encode(), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 422
        body = response.json()
        assert list(body["errors"]) == [text]
        assert "application/json" in body["message"]
        assert snapshot(appointment) == before

    @pytest.mark.parametrize(
        ("method", "path", "body", "keys"),
        [
            ("patch", "", {"durattion_in_minutes": 45, "colour": "red"}, ["durattion_in_minutes", "colour"]),
            ("patch", "", {"claimant": {"full_name": "Ada King"}}, ["claimant.full_name"]),
            ("post", "/cancel", {"reason": "Moved away"}, ["reason"]),
        ],
    )
    def test_a_body_of_unknown_keys_only_is_a_422_naming_each(self, api, appointment, method, path, body, keys):
        before = snapshot(appointment)
        response = getattr(api, method)(patch_url(appointment) + path, body, format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == keys
        assert response.json()["message"].startswith(f"The {keys[0]} field is unknown.")
        assert snapshot(appointment) == before

    def test_a_create_of_unknown_keys_only_is_a_422(self, api, department) -> None:
        count = Appointment.objects.count()
        response = api.post(URL, {"when": "2031-01-01T09:00:00Z", "length": 30}, format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["when", "length"]
        assert Appointment.objects.count() == count

    def test_unknown_keys_beside_a_known_one_are_ignored_as_the_contract_says(self, api, appointment) -> None:
        response = api.patch(patch_url(appointment), {"duration_in_minutes": 45, "colour": "red"}, format="json")
        assert response.status_code == 200
        appointment.refresh_from_db()
        assert appointment.duration_in_minutes == 45

    def test_what_a_get_answered_can_be_sent_back_in_part(self, api, appointment) -> None:
        """Read-only fields are known: a body of them alone is a no-op, as any echo of a GET is."""
        read = api.get(patch_url(appointment)).json()["data"]
        before = snapshot(appointment)
        for part in (
            {"id": read["id"], "reference": read["reference"], "meeting": read["meeting"]},
            {"department": read["department"], "url": read["url"], "created_at": read["created_at"]},
            read,
        ):
            response = api.patch(patch_url(appointment), part, format="json")
            assert response.status_code == 200, response.json()
        assert snapshot(appointment) == before

    def test_an_empty_body_and_a_form_override_alone_still_change_nothing(self, api, appointment) -> None:
        before = snapshot(appointment)
        assert api.patch(patch_url(appointment), {}, format="json").status_code == 200
        assert api.post(patch_url(appointment), {"_method": "PATCH"}, format="multipart").status_code == 200
        assert snapshot(appointment) == before

    def test_a_cancel_with_no_body_still_cancels(self, api, appointment) -> None:
        assert api.post(patch_url(appointment) + "/cancel").status_code == 200
        appointment.refresh_from_db()
        assert appointment.status == Status.CANCELLED
