"""The appointment page's personal data section (issue 21.2, 21.3, 21.4, 21.7): shown to managers only, the same
services as the API."""

import json

import pytest
from django.test import Client

from appointments.models import Appointment
from claimants.models import Claimant
from privacy.models import AccessRequest, Erasure, LegalHold
from tests.helpers import logged_in, staff

pytestmark = pytest.mark.django_db


def page(appointment: Appointment) -> str:
    return f"/admin/appointments/appointment/{appointment.pk}/"


@pytest.fixture
def manager_client(appointment: Appointment) -> Client:
    return logged_in(staff("boss", appointment.department, group="Department managers"))


@pytest.fixture
def agent_client(appointment: Appointment) -> Client:
    return logged_in(staff("agent", appointment.department))


def test_managers_see_the_section_and_agents_do_not(
    appointment: Appointment, manager_client: Client, agent_client: Client
) -> None:
    shown = manager_client.get(page(appointment) + "change/").content.decode()
    assert 'id="personal-data"' in shown
    assert "Erase the claimant's personal data" in shown
    assert 'id="personal-data"' not in agent_client.get(page(appointment) + "change/").content.decode()


def test_erasing_needs_the_box_ticked_and_the_permission(
    appointment: Appointment, manager_client: Client, agent_client: Client
) -> None:
    url = page(appointment) + "personal-data/erase/"
    assert agent_client.post(url, {"erase_confirm": "yes"}).status_code == 403
    assert manager_client.get(url).status_code == 405
    manager_client.post(url, {})
    assert not Erasure.objects.exists()
    response = manager_client.post(url, {"erase_confirm": "yes"}, follow=True)
    assert Claimant.objects.get(appointment=appointment).erased_at is not None
    text = response.content.decode()
    assert "The claimant&#x27;s personal data was erased:" in text
    erased_by = Erasure.objects.get().erased_by
    assert erased_by is not None
    assert erased_by.username == "boss"


def test_a_hold_placed_in_the_back_office_refuses_erasure_until_lifted(
    appointment: Appointment, manager_client: Client
) -> None:
    manager_client.post(page(appointment) + "personal-data/legal-hold/", {"legal_hold_reason": ""})
    assert not LegalHold.objects.exists()
    manager_client.post(page(appointment) + "personal-data/legal-hold/", {"legal_hold_reason": "Claim 7"})
    assert LegalHold.objects.get().reason == "Claim 7"
    refused = manager_client.post(page(appointment) + "personal-data/erase/", {"erase_confirm": "yes"}, follow=True)
    assert "The appointment is on legal hold: Claim 7. Nothing was erased." in refused.content.decode()
    assert Claimant.objects.get(appointment=appointment).erased_at is None
    manager_client.post(page(appointment) + "personal-data/legal-hold/lift/")
    assert LegalHold.objects.get().lifted_at is not None
    manager_client.post(page(appointment) + "personal-data/erase/", {"erase_confirm": "yes"})
    assert Claimant.objects.get(appointment=appointment).erased_at is not None


def test_the_export_downloads_as_a_file(appointment: Appointment, manager_client: Client, agent_client: Client) -> None:
    url = page(appointment) + "personal-data.json"
    assert agent_client.get(url).status_code == 403
    response = manager_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="personal-data-{appointment.pk}.json"'
    assert json.loads(response.content)["data"]["claimant"]["Name"] == "Ada Lovelace"
    assert AccessRequest.objects.get().door == "back office"
