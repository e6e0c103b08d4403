"""POST /api/v1/appointments/{appointment}/cancel."""

import pytest

from appointments.models import Appointment, Status
from tests.helpers import STATUS_PATHS, walk_to


def url(appointment: Appointment) -> str:
    return f"/api/v1/appointments/{appointment.pk}/cancel"


def test_cancel_with_a_reason(api, appointment) -> None:
    response = api.post(url(appointment), {"cancellation_reason": "Claimant asked"}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["cancellation_reason"]) == ("cancelled", "Claimant asked")
    assert data["cancelled_at"].endswith("Z")
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancelled_at is not None
    assert appointment.cancellation_reason == "Claimant asked"


def test_cancel_statements(api, appointment) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.get(f"/api/v1/appointments/{appointment.pk}")  # the first use of a token records last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert api.post(url(appointment), {}, format="json").status_code == 200
    # token; begin; lock with tenancy (and the data items: in the same statement on PostgreSQL, one more
    # elsewhere); the update and its history; events; task; the ledger's chain head and its entries; commit
    assert len(queries) == (10 if connection.vendor == "postgresql" else 11), [q["sql"][:80] for q in queries]


@pytest.mark.parametrize(("body", "fmt"), [(None, "json"), ({}, "json"), ({"cancellation_reason": ""}, "multipart")])
def test_cancel_without_a_reason(api, appointment, body, fmt) -> None:
    response = api.post(url(appointment), body, format=fmt)
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (Status.CANCELLED, None)


def test_cancel_from_waiting(api, agent, appointment) -> None:
    walk_to(appointment, Status.WAITING, agent.user)  # the claimant joins the waiting room
    assert api.post(url(appointment), {}, format="json").status_code == 200


@pytest.mark.parametrize("path", [[Status.CANCELLED], [Status.NO_SHOW], [Status.IN_PROGRESS, Status.COMPLETED]])
def test_final_appointments_cannot_be_cancelled(api, agent, appointment, path) -> None:
    assert STATUS_PATHS[path[-1]] == path
    walk_to(appointment, path[-1], agent.user)  # each step at a moment the status rules allow
    appointment.refresh_from_db()
    before = (appointment.status, appointment.cancelled_at, appointment.cancellation_reason, appointment.updated_at)
    response = api.post(url(appointment), {"cancellation_reason": "again"}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["status"]
    assert "cannot be cancelled" in response.json()["message"]
    appointment.refresh_from_db()
    assert (
        appointment.status,
        appointment.cancelled_at,
        appointment.cancellation_reason,
        appointment.updated_at,
    ) == before


def test_in_progress_cannot_be_cancelled(api, agent, appointment) -> None:
    walk_to(appointment, Status.IN_PROGRESS, agent.user)  # started inside the join window
    response = api.post(url(appointment), {}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == {"status": ["The status cannot change from in progress to cancelled."]}


def test_patch_to_cancelled_does_the_same(api, appointment, department) -> None:
    from tests.factories import make_appointment

    twin = make_appointment(department)
    by_cancel = api.post(url(appointment), {"cancellation_reason": "R"}, format="json").json()["data"]
    by_patch = api.patch(
        f"/api/v1/appointments/{twin.pk}", {"status": "cancelled", "cancellation_reason": "R"}, format="json"
    ).json()["data"]
    for key in ("status", "cancellation_reason"):
        assert by_cancel[key] == by_patch[key]
    assert by_cancel["cancelled_at"] is not None
    assert by_patch["cancelled_at"] is not None


def test_cancel_of_another_departments_appointment_is_404(other_agent, appointment) -> None:
    response = other_agent.client().post(url(appointment), {}, format="json")
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED


def test_cancel_needs_post(api, appointment) -> None:
    assert api.get(url(appointment)).status_code == 405
    assert api.post(url(appointment) + "/", {}, format="json").status_code == 200


def test_overlong_reason_is_422(api, appointment) -> None:
    response = api.post(url(appointment), {"cancellation_reason": "x" * 2001}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["cancellation_reason"]
