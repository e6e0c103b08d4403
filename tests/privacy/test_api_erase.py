"""POST /api/v1/appointments/{id}/erase and the legal hold endpoints (issue 21.2, 21.4, 21.7)."""

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments.models import Appointment, Department
from claimants.models import Claimant, ClaimantData
from events.models import Event, EventType
from meetings.models import Participant
from privacy.models import Erasure, LegalHold
from tests.support import Persona, persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(department: Department) -> Persona:
    return persona("boss", department, group="Department managers")


def erase(client: APIClient, appointment: Appointment) -> Any:
    return client.post(f"/api/v1/appointments/{appointment.pk}/erase")


def history_values(model: Any, **where: Any) -> list[tuple[Any, ...]]:
    return list(model.history.model.objects.filter(**where).values_list())


def test_erasure_empties_the_claimant_everywhere_and_answers_its_receipt(
    appointment: Appointment, manager: Persona
) -> None:
    client = manager.client()
    client.patch(
        f"/api/v1/appointments/{appointment.pk}",
        {"claimant": {"name": "Ada King", "email": "ada.king@example.com"}},
        format="json",
    )
    token = appointment.public_token
    with CaptureQueriesContext(connection) as queries:
        response = erase(client, appointment)
    assert response.status_code == 200, response.content
    receipt = response.json()["data"]
    assert set(receipt) == {"erased_at", "counts"}
    claimant = Claimant.objects.get(appointment=appointment)
    assert (claimant.name, claimant.email, claimant.phone_number, claimant.date_of_birth) == (None, None, None, None)
    assert claimant.erased_at is not None
    assert list(ClaimantData.objects.filter(claimant=claimant).values_list("value", flat=True)) == [None, None]
    for version in Claimant.history.model.objects.filter(id=claimant.pk):
        assert (version.name, version.email, version.phone_number) == (None, None, None)
    texts = json.dumps([history_values(ClaimantData, claimant_id=claimant.pk)], default=str)
    assert "CASE-1" not in texts
    for event in Event.objects.filter(appointment=appointment):
        assert "Ada" not in event.data
        assert "ada@example.com" not in event.data
        assert "+447911123456" not in event.data
        assert token not in event.data
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert fresh.public_token != token
    assert not Participant.objects.filter(appointment=appointment, revoked_at__isnull=True).exists()
    # The receipt: the rows changed per table, and once only.
    assert receipt["counts"]["claimants_claimant"] == 1
    assert receipt["counts"]["claimants_historicalclaimant"] == 2  # created, then renamed
    assert receipt["counts"]["events_event"] == Event.objects.filter(appointment=appointment).count() - 1
    erasure = Erasure.objects.get(appointment=appointment)
    assert erasure.erased_by == manager.user
    assert erasure.counts == receipt["counts"]
    assert len(queries) < 120
    erased_event = Event.objects.get(appointment=appointment, type=EventType.APPOINTMENT_ERASED)
    assert json.loads(erased_event.data)["appointment"] == {
        "id": str(appointment.pk),
        "reference": appointment.reference,
        "department": {"id": str(appointment.department_id)},
        "claimant": {"erased_at": receipt["erased_at"]},
    }

    again = erase(client, appointment)
    assert again.status_code == 200
    assert again.json() == response.json()
    assert Event.objects.filter(appointment=appointment, type=EventType.APPOINTMENT_ERASED).count() == 1


def test_an_erased_appointment_reads_with_null_claimant_fields_and_cannot_change(
    appointment: Appointment, manager: Persona, api: APIClient
) -> None:
    before_other = api.get(f"/api/v1/appointments/{appointment.pk}").json()["data"]
    assert "erased_at" not in before_other["claimant"]
    receipt = erase(manager.client(), appointment).json()["data"]
    shown = api.get(f"/api/v1/appointments/{appointment.pk}").json()["data"]
    assert shown["claimant"]["name"] is None
    assert shown["claimant"]["email"] is None
    assert shown["claimant"]["phone_number"] is None
    assert shown["claimant"]["erased_at"] == receipt["erased_at"]
    assert [item["value"] for item in shown["claimant"]["data"]] == [None, None]
    assert {key: shown[key] for key in ("status", "appointment_at", "duration_in_minutes")} == {
        key: before_other[key] for key in ("status", "appointment_at", "duration_in_minutes")
    }
    refused = api.patch(f"/api/v1/appointments/{appointment.pk}", {"duration_in_minutes": 30}, format="json")
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "claimant": ["The claimant's personal data was erased: the appointment can no longer be changed."]
    }
    assert api.post(f"/api/v1/appointments/{appointment.pk}/cancel", {}, format="json").status_code == 422
    assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 60


def test_the_claimants_link_stops_working(appointment: Appointment, manager: Persona) -> None:
    from django.test import Client

    page = Client().get(f"/join/{appointment.public_token}")
    assert page.status_code == 200
    erase(manager.client(), appointment)
    assert Client().get(f"/join/{appointment.public_token}").status_code == 404
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert Client().get(f"/join/{fresh.public_token}").status_code == 404


@pytest.mark.parametrize("who", ["agent", "other department's manager", "anonymous"])
def test_only_a_manager_of_the_department_may_erase(appointment: Appointment, who: str) -> None:
    if who == "agent":
        client, expected = persona("agent", appointment.department, group="Agents").client(), 403
    elif who == "anonymous":
        client, expected = APIClient(), 401
    else:
        elsewhere = Department.objects.create(name="Elsewhere")
        client, expected = persona("boss2", elsewhere, group="Department managers").client(), 404
    response = erase(client, appointment)
    assert response.status_code == expected
    assert set(response.json()) == {"message"}
    assert Claimant.objects.get(appointment=appointment).name == "Ada Lovelace"
    assert not Erasure.objects.exists()


def test_a_malformed_or_missing_id_is_the_same_404(manager: Persona) -> None:
    client = manager.client()
    for path in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = client.post(f"/api/v1/appointments/{path}/erase")
        assert (response.status_code, response.json()) == (404, {"message": "Not found."})


def test_a_legal_hold_refuses_erasure_with_its_reason_until_lifted(appointment: Appointment, manager: Persona) -> None:
    client = manager.client()
    url = f"/api/v1/appointments/{appointment.pk}/legal-hold"
    placed = client.post(url, {"reason": "Claim 42 in court"}, format="json")
    assert placed.status_code == 201, placed.content
    assert placed.json()["data"]["reason"] == "Claim 42 in court"
    refused = erase(client, appointment)
    assert refused.status_code == 409
    assert refused.json() == {"message": "The appointment is on legal hold: Claim 42 in court"}
    assert Claimant.objects.get(appointment=appointment).erased_at is None
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 204
    hold = LegalHold.objects.get(appointment=appointment)
    assert hold.lifted_by == manager.user
    assert erase(client, appointment).status_code == 200


def test_a_hold_that_has_ended_does_not_refuse(appointment: Appointment, manager: Persona) -> None:
    from datetime import timedelta

    from django.utils import timezone

    LegalHold.objects.create(
        appointment=appointment,
        reason="Old claim",
        until=timezone.now().date() - timedelta(days=2),
        placed_at=timezone.now(),
        placed_by=manager.user,
    )
    assert erase(manager.client(), appointment).status_code == 200


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"reason": ["The reason field is required."]}),
        ({"reason": "   "}, {"reason": ["The reason field may not be blank."]}),
        ({"reason": "x", "until": "2001-01-01"}, {"until": ["The until field must be today or a date after today."]}),
        ({"reason": "x", "until": "yesterday"}, {"until": ["The until field must be a date written YYYY-MM-DD."]}),
    ],
)
def test_a_bad_hold_is_a_422_and_places_nothing(
    appointment: Appointment, manager: Persona, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = manager.client().post(f"/api/v1/appointments/{appointment.pk}/legal-hold", body, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == errors
    assert not LegalHold.objects.exists()


def test_an_agent_may_not_place_or_lift_a_hold(appointment: Appointment, api: APIClient) -> None:
    url = f"/api/v1/appointments/{appointment.pk}/legal-hold"
    assert api.post(url, {"reason": "x"}, format="json").status_code == 403
    assert api.delete(url).status_code == 403
    assert not LegalHold.objects.exists()
