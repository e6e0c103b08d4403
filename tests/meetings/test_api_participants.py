"""GET /api/v1/appointments/{id}/participants, POST .../guests and DELETE .../guests/{guest}: the same
authentication, tenancy and errors as the rest, and the appointment's representation unchanged."""

import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import Participant, Role
from meetings.services import participant_record_consent
from tests.factories import make_appointment


def url(appointment, tail: str = "participants") -> str:
    return f"/api/v1/appointments/{appointment.pk}/{tail}"


def test_lists_every_participant_with_their_link_and_journey(api, appointment) -> None:
    person = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    participant_record_consent(participant=person, consent=True)
    response = api.get(url(appointment))
    assert response.status_code == 200
    rows = {row["role"]: row for row in response.json()["data"]}
    assert set(rows) == {"agent", "claimant"}
    claimant = rows["claimant"]
    assert claimant["display_name"] == "Ada Lovelace"
    assert claimant["url"] == appointment.url
    assert claimant["recording_consent"]["given"] is True
    assert claimant["recording_consent"]["answered_at"].endswith("Z")
    assert claimant["identity_check"] == {"required": False, "passed_at": None, "failed_attempts": 0, "locked_at": None}
    assert claimant["device_check"] == {"checked_at": None, "camera": None, "microphone": None, "downlink_kbps": None}
    assert rows["agent"]["url"].endswith(f"/admin/appointments/appointment/{appointment.pk}/meeting/")
    assert list(claimant) == [
        "id", "role", "display_name", "agent_id", "url", "joined_waiting_at", "admitted_at", "left_at", "revoked_at",
        "identity_check", "recording_consent", "device_check",
    ]  # fmt: skip


def test_the_list_costs_the_same_queries_for_two_or_twenty_participants(api, agent, appointment) -> None:
    with CaptureQueriesContext(connection) as few:
        api.get(url(appointment))
    for n in range(18):
        api.post(url(appointment, "guests"), {"display_name": f"Guest {n}"}, format="json")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(url(appointment)).json()["data"]) == 20
    assert len(few) == len(many) <= 3


def test_invite_a_guest_then_revoke_the_link(api, client, appointment) -> None:
    response = api.post(url(appointment, "guests"), {"display_name": "Sam Solicitor"}, format="json")
    assert response.status_code == 201
    guest = response.json()["data"]
    assert (guest["role"], guest["display_name"]) == ("guest", "Sam Solicitor")
    link = guest["url"].split("127.0.0.1:8000", 1)[1]
    assert client.get(link).status_code == 200
    assert api.delete(url(appointment, f"guests/{guest['id']}")).status_code == 204
    assert client.get(link).status_code == 404
    assert api.delete(url(appointment, f"guests/{guest['id']}")).status_code == 204  # again: nothing changes
    listed = {row["id"]: row for row in api.get(url(appointment)).json()["data"]}
    assert listed[guest["id"]]["revoked_at"] is not None


def test_bad_guest_bodies_are_422_and_invite_nobody(api, appointment) -> None:
    for body in ({}, {"display_name": ""}, {"display_name": "x" * 201}, {"display_name": ["a"]}, {"display_name": 0}):
        response = api.post(url(appointment, "guests"), body, format="json")
        assert response.status_code == 422, body
        assert list(response.json()["errors"]) == ["display_name"]
    assert not Participant.objects.filter(appointment=appointment, role=Role.GUEST).exists()


def test_only_guests_are_revoked_here(api, appointment) -> None:
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    assert api.delete(url(appointment, f"guests/{claimant.pk}")).status_code == 404
    assert api.delete(url(appointment, f"guests/{uuid.uuid4()}")).status_code == 404
    assert api.delete(url(appointment, "guests/not-an-id")).status_code == 404
    assert Participant.objects.get(pk=claimant.pk).revoked_at is None


def test_another_departments_appointment_is_a_404_like_any_other(other_agent, appointment) -> None:
    api = other_agent.client()
    missing = api.get(f"/api/v1/appointments/{uuid.uuid4()}/participants")
    for response in (
        api.get(url(appointment)),
        api.post(url(appointment, "guests"), {"display_name": "Eve"}, format="json"),
        missing,
    ):
        assert response.status_code == 404
        assert response.content == missing.content
    assert not Participant.objects.filter(appointment=appointment, role=Role.GUEST).exists()


def test_without_a_token_it_is_401(client, appointment) -> None:
    response = client.get(url(appointment))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_the_appointments_representation_is_unchanged(api, department) -> None:
    appointment = make_appointment(department, is_interpreter_needed=True, interpreter_language="Welsh")
    data = api.get(f"/api/v1/appointments/{appointment.pk}").json()["data"]
    assert "participants" not in data
    assert data["url"] == appointment.url


def _guest_in_the_waiting_room(appointment, agent) -> Participant:
    """A guest whose page went into the waiting room of a running session (issue 17.9)."""
    from datetime import timedelta

    from django.utils import timezone

    from appointments.models import Status
    from appointments.services import appointment_update
    from meetings.devices import participant_record_device_check
    from meetings.services import participant_invite_guest
    from meetings.services.journey import participant_join
    from tests.factories import a_browser

    appointment.appointment_at = timezone.now() + timedelta(minutes=5)
    appointment_update(appointment=appointment, data={"appointment_at": appointment.appointment_at}, actor=agent.user)
    appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=agent.user)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=agent.user)
    browser = a_browser()
    participant_record_device_check(participant=guest, results={"camera": True, "microphone": True}, browser=browser)
    return participant_join(participant=Participant.objects.get(pk=guest.pk), browser=browser)


def test_admit_a_waiting_guest_and_the_list_says_who_let_them_in(api, agent, appointment) -> None:
    guest = _guest_in_the_waiting_room(appointment, agent)
    before = {row["id"]: row for row in api.get(url(appointment)).json()["data"]}
    waiting = before[str(guest.pk)]
    assert (waiting["admitted_at"], waiting["left_at"]) == (None, None)
    assert waiting["joined_waiting_at"].endswith("Z")
    assert "admitted_by_id" not in waiting  # additive: absent where unset, every other key as before
    assert all("admitted_by_id" not in row for row in before.values())

    with CaptureQueriesContext(connection) as queries:
        response = api.post(url(appointment, f"participants/{guest.pk}/admit"))
    assert response.status_code == 200
    # The event's representation reads the claimant's data items in its appointment's row on PostgreSQL, in one
    # more statement on SQLite (appointments.selectors.items_in_row). The ledger's chain head and entry: two more.
    assert len(queries) <= (14 if connection.vendor == "postgresql" else 15), [q["sql"][:80] for q in queries]
    admitted = response.json()["data"]
    assert admitted["admitted_by_id"] == agent.user.pk
    assert list(admitted) == [*list(waiting), "admitted_by_id"]  # the new key last
    stored = Participant.objects.get(pk=guest.pk)
    assert (stored.admitted_by_id, stored.admitted_at is not None) == (agent.user.pk, True)
    listed = {row["id"]: row for row in api.get(url(appointment)).json()["data"]}
    assert listed[str(guest.pk)] == admitted  # the list and the answer agree
    assert api.post(url(appointment, f"participants/{guest.pk}/admit/")).json()["data"] == admitted  # again: same


def test_admitting_the_claimant_or_someone_not_waiting_is_a_422_and_changes_nothing(api, agent, appointment) -> None:
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    guest = api.post(url(appointment, "guests"), {"display_name": "Sam"}, format="json").json()["data"]
    for person, message in (
        (str(claimant.pk), "The claimant is let in by starting the session."),
        (guest["id"], "Sam is not in the waiting room."),
    ):
        response = api.post(url(appointment, f"participants/{person}/admit"))
        assert response.status_code == 422
        assert response.json() == {"message": message, "errors": {"participant": [message]}}
    assert not Participant.objects.filter(appointment=appointment, admitted_at__isnull=False).exists()


def test_admit_keeps_to_the_callers_departments_and_needs_a_token(other_agent, client, agent, appointment) -> None:
    guest = _guest_in_the_waiting_room(appointment, agent)
    path = url(appointment, f"participants/{guest.pk}/admit")
    assert other_agent.client().post(path).status_code == 404
    assert agent.client().post(url(appointment, f"participants/{uuid.uuid4()}/admit")).status_code == 404
    assert agent.client().post(url(appointment, "participants/not-an-id/admit")).status_code == 404
    assert client.post(path).status_code == 401
    assert agent.client().get(path).status_code == 405
    assert Participant.objects.get(pk=guest.pk).admitted_at is None
