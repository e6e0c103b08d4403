"""Every model is in the admin with a list view; appointments and their parts are read-only there for now."""

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from appointments.models import ApiToken, Appointment, Department
from claimants.models import Claimant, ClaimantData
from meetings.models import Meeting
from tests.factories import UserFactory

MODELS = [Department, Appointment, ApiToken, Claimant, ClaimantData, Meeting]


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="admin", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_a_changelist(staff_client, appointment, model) -> None:
    assert model in site._registry
    meta = model._meta
    response = staff_client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
    assert response.status_code == 200


@pytest.mark.parametrize("model", [Appointment, Claimant, ClaimantData, Meeting, ApiToken])
def test_records_kept_by_services_cannot_be_edited_in_the_admin(staff_client, appointment, model) -> None:
    meta = model._meta
    assert staff_client.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403


def test_appointment_changelist_query_count_does_not_grow(
    staff_client, department, django_assert_max_num_queries
) -> None:
    from tests.factories import make_appointment

    for _ in range(5):
        make_appointment(department)
    with django_assert_max_num_queries(12):
        assert staff_client.get("/admin/appointments/appointment/").status_code == 200
