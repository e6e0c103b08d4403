"""meetings.shape: the participant as the API answers it (built without DRF) is, byte for byte, what
ParticipantSerializer (the schema's description) makes of it, in every state a participant can be in."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.api.serializers import ParticipantSerializer
from meetings.models import Participant, Role
from meetings.services import participant_invite_guest, participant_revoke
from meetings.shape import KEYS


def _as_the_serializer_shows(appointment) -> str:
    people = Participant.objects.filter(appointment=appointment).select_related("user", "appointment__claimant")
    return json.dumps(ParticipantSerializer(people.order_by("created_at", "id"), many=True).data)


def test_the_serializer_declares_the_shapes_keys() -> None:
    assert ParticipantSerializer.Meta.fields == list(KEYS)
    assert KEYS[-1] == "admitted_by_id"  # additive: no key after it may be required


@pytest.mark.parametrize("names", [("Amy", "Agent"), ("", "")], ids=["named agent", "agent by username"])
def test_every_state_is_shown_as_the_serializer_shows_it(api, agent, appointment, names) -> None:
    agent.user.first_name, agent.user.last_name = names
    agent.user.save()
    appointment.features_call_recording_enable = True
    appointment.save()
    appointment.claimant.date_of_birth = timezone.now().date() - timedelta(days=9000)
    appointment.claimant.save()
    staff = Participant.objects.get(appointment=appointment, role=Role.AGENT)
    staff.user = agent.user
    staff.save()
    now = timezone.now()
    Participant(
        appointment=appointment, role=Role.INTERPRETER, display_name="Ines Interpreter", joined_waiting_at=now,
        admitted_at=now, admitted_by=agent.user, left_at=now, identity_failures=2, identity_locked_at=now,
        identity_checked_at=now, recording_consent=False, recording_consent_at=now, device_checked_at=now,
        device_check={"camera": True, "microphone": False, "downlink_kbps": 900},
    ).save()  # fmt: skip
    guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=agent.user)
    participant_revoke(participant=guest, actor=agent.user)
    response = api.get(f"/api/v1/appointments/{appointment.pk}/participants")
    assert response.status_code == 200
    assert json.dumps(response.json()["data"]) == _as_the_serializer_shows(appointment)
    assert {row["role"] for row in response.json()["data"]} == {"agent", "claimant", "interpreter", "guest"}


def test_an_invited_guest_is_shown_as_the_serializer_shows_it(api, appointment) -> None:
    response = api.post(f"/api/v1/appointments/{appointment.pk}/guests", {"display_name": "Gil"}, format="json")
    assert response.status_code == 201
    guest = Participant.objects.select_related("appointment__claimant").get(pk=response.json()["data"]["id"])
    assert json.dumps(response.json()["data"]) == json.dumps(ParticipantSerializer(guest).data)


def test_an_invitation_reads_the_appointment_once_and_nothing_deferred(api, appointment) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"/api/v1/appointments/{appointment.pk}/guests", {"display_name": "Gil"}, format="json")
    assert response.status_code == 201
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "appointments_appointment" in q["sql"]]
    assert len(reads) == 2, reads  # what the invitation reads, then the lock: no deferred column read after
