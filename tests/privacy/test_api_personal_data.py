"""GET /api/v1/appointments/{id}/personal-data and GET /api/v1/claimants (issue 21.3)."""

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from appointments.models import Appointment, Department
from privacy.models import AccessKind, AccessRequest
from tests.factories import make_appointment
from tests.support import Persona, persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(department: Department) -> Persona:
    return persona("boss", department, group="Department managers")


def test_the_export_holds_every_version_and_copy_and_is_recorded(appointment: Appointment, manager: Persona) -> None:
    client = manager.client()
    client.patch(f"/api/v1/appointments/{appointment.pk}", {"claimant": {"name": "Ada King"}}, format="json")
    response = client.get(f"/api/v1/appointments/{appointment.pk}/personal-data")
    assert response.status_code == 200
    document = response.json()["data"]
    assert document["claimant"]["Name"] == "Ada King"
    assert document["claimant"]["Email"] == "ada@example.com"
    assert document["claimant"]["Case number"] == "CASE-1"
    assert document["appointment"]["starts"]["utc"].endswith("Z")
    assert document["appointment"]["department"] == "Claims"
    tables = {part["table"]: part for part in document["held"]}
    assert {"claimants_claimant", "claimants_historicalclaimant", "events_event"} <= tables.keys()
    versions = [row["name"] for row in tables["claimants_historicalclaimant"]["rows"]]
    assert versions == ["Ada Lovelace", "Ada King"]
    assert all("utc" in row["recorded"] and "local" in row["recorded"] for row in tables["events_event"]["rows"])
    assert "Ada Lovelace" in json.dumps(tables["events_event"])
    request = AccessRequest.objects.get()
    assert (request.kind, request.appointment, request.asked_by, request.door) == (
        AccessKind.EXPORT,
        appointment,
        manager.user,
        "api",
    )


@pytest.mark.parametrize(("who", "status"), [("agent", 403), ("elsewhere", 404), ("anonymous", 401)])
def test_only_a_manager_of_the_department_may_export(appointment: Appointment, who: str, status: int) -> None:
    if who == "agent":
        client = persona("agent", appointment.department, group="Agents").client()
    elif who == "elsewhere":
        client = persona("boss2", Department.objects.create(name="Elsewhere"), group="Department managers").client()
    else:
        client = APIClient()
    response = client.get(f"/api/v1/appointments/{appointment.pk}/personal-data")
    assert response.status_code == status
    assert set(response.json()) == {"message"}
    assert not AccessRequest.objects.exists()


def search(client: APIClient, **query: str) -> Any:
    return client.get("/api/v1/claimants", query)


def test_a_person_is_found_by_email_in_any_case_or_phone_in_any_form(
    appointment: Appointment, manager: Persona, department: Department
) -> None:
    other = make_appointment(
        department, reference="B", claimant={"name": "Bob", "email": "bob@example.com", "data": {"Case number": "2"}}
    )
    elsewhere = Department.objects.create(name="Elsewhere")
    make_appointment(elsewhere, claimant={"name": "Ada", "email": "ada@example.com"})
    client = manager.client()
    by_email = search(client, email="ADA@example.com")
    assert by_email.status_code == 200
    assert [shown["id"] for shown in by_email.json()["data"]] == [str(appointment.pk)]
    for written in ("07911 123456", "+44 7911 123456", "+447911123456"):
        assert [shown["id"] for shown in search(client, phone=written).json()["data"]] == [str(appointment.pk)]
    assert search(client, email="ada@example.com", date_of_birth="1990-01-01").json()["data"] == []
    assert other.pk not in [shown["id"] for shown in by_email.json()["data"]]
    records = AccessRequest.objects.filter(kind=AccessKind.SEARCH)
    assert records.count() == 5
    assert sorted(records.values_list("found", flat=True)) == [0, 1, 1, 1, 1]
    assert not any("ada" in json.dumps(row, default=str).lower() for row in records.values())


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({}, {"email": ["Give the email or the phone number of the person."]}),
        ({"phone": "not a number"}, {"phone": ["The phone field must be a valid phone number."]}),
        (
            {"email": "a@b.c", "date_of_birth": "1st May"},
            {"date_of_birth": ["The date of birth field must be a date written YYYY-MM-DD."]},
        ),
    ],
)
def test_a_bad_search_is_a_422(manager: Persona, query: dict[str, str], errors: dict[str, list[str]]) -> None:
    response = search(manager.client(), **query)
    assert response.status_code == 422
    assert response.json()["errors"] == errors
    assert not AccessRequest.objects.exists()


def test_an_agent_may_not_search(api: APIClient) -> None:
    assert search(api, email="ada@example.com").status_code == 403
