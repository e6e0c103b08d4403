"""The test call's answers and the device check's plain verdict (issue 22.5): what the page posts after the check
(the test sound heard or not, audio only, the microphone's level), checked and kept with the check; the verdict
from each outcome; joining by audio only starts the meeting with video off; the page may time the connection
against the video platform's host."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from appointments.models import Appointment
from meetings.devices import Verdict, device_verdict, participant_record_device_check
from meetings.models import Participant, Role
from meetings.video import iframe_options
from tests.factories import make_appointment

CLAIMANT = {"name": "Ada Lovelace", "date_of_birth": None, "data": {"Case number": "C-1"}}


@pytest.fixture
def soon(department) -> Appointment:
    when = timezone.now() + timedelta(minutes=10)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=CLAIMANT)


def claimant(appointment: Appointment) -> Participant:
    return Participant.objects.select_related("appointment__department").get(
        appointment=appointment, role=Role.CLAIMANT
    )


def post(client: Client, appointment: Appointment, step: str, body: object) -> tuple[int, dict]:
    if "join_browser" not in client.cookies:
        client.get(f"/join/{appointment.public_token}")
    response = client.post(
        f"/join/{appointment.public_token}/{step}", json.dumps(body), content_type="application/json"
    )
    return response.status_code, response.json()


def test_the_answers_are_kept_with_the_check(client, soon) -> None:
    status, _ = post(client, soon, "device-check", {"camera": True, "microphone": True, "connection_to": "video"})
    assert status == 200
    assert post(client, soon, "test-call", {"speaker_heard": True, "microphone_peak": 0.42})[0] == 200
    assert post(client, soon, "test-call", {"audio_only": True})[0] == 200
    check = claimant(soon).device_check
    assert check == {
        "camera": True,
        "microphone": True,
        "downlink_kbps": None,
        "connection_to": "video",
        "speaker_heard": True,
        "microphone_peak": 0.42,
        "audio_only": True,
    }


def test_answers_before_a_check_are_refused(client, soon) -> None:
    status, body = post(client, soon, "test-call", {"speaker_heard": True})
    assert (status, body["message"]) == (409, "Check your camera and microphone first.")
    assert claimant(soon).device_check is None


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({}, "body"),
        ({"speaker_heard": "yes"}, "speaker_heard"),
        ({"audio_only": 1}, "audio_only"),
        ({"microphone_peak": 2}, "microphone_peak"),
        ({"microphone_peak": True}, "microphone_peak"),
        ({"microphone_peak": "0.5"}, "microphone_peak"),
    ],
)
def test_bad_answers_change_nothing(client, soon, body, key) -> None:
    post(client, soon, "device-check", {"camera": True, "microphone": True})
    before = claimant(soon).device_check
    status, answer = post(client, soon, "test-call", body)
    assert status in (400, 422)
    assert list(answer["errors"]) == [key]
    assert claimant(soon).device_check == before


def test_a_bad_connection_target_is_refused(client, soon) -> None:
    status, answer = post(client, soon, "device-check", {"camera": True, "microphone": True, "connection_to": "x"})
    assert (status, list(answer["errors"])) == (422, ["connection_to"])
    assert claimant(soon).device_checked_at is None


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ({"camera": True, "microphone": True, "downlink_kbps": 5000, "speaker_heard": True}, Verdict.GOOD),
        ({"camera": True, "microphone": True}, Verdict.GOOD),
        ({"camera": True, "microphone": True, "downlink_kbps": 400}, Verdict.AUDIO_ONLY),
        ({"camera": False, "camera_problem": "missing", "microphone": True}, Verdict.AUDIO_ONLY),
        ({"camera": False, "camera_problem": "blocked", "microphone": True}, Verdict.NOT_WORKING),
        ({"camera": True, "microphone": False, "microphone_problem": "missing"}, Verdict.NOT_WORKING),
        ({"camera": True, "microphone": True, "speaker_heard": False}, Verdict.NOT_WORKING),
    ],
)
def test_the_verdict_in_plain_words(soon, results, verdict) -> None:
    person = claimant(soon)
    assert device_verdict(person) is None
    check = {k: v for k, v in results.items() if k != "speaker_heard"}
    participant_record_device_check(participant=person, results=check)
    if "speaker_heard" in results:
        person.device_check = {**(person.device_check or {}), "speaker_heard": results["speaker_heard"]}
    assert device_verdict(person) == verdict


def test_the_page_says_the_verdict_not_a_number(client, soon) -> None:
    post(client, soon, "device-check", {"camera": True, "microphone": True, "downlink_kbps": 95325})
    page = client.get(f"/join/{soon.public_token}").content.decode()
    assert "Good for video" in page
    assert "Your connection is fast enough for video." in page
    assert "95325" not in page
    post(client, soon, "test-call", {"speaker_heard": False})
    page = client.get(f"/join/{soon.public_token}").content.decode()
    assert "Not working" in page
    assert "You did not hear the test sound." in page


def test_audio_only_starts_the_meeting_with_video_off(soon) -> None:
    person = claimant(soon)
    participant_record_device_check(participant=person, results={"camera": True, "microphone": True})
    config = iframe_options(person, recording=False, now=timezone.now())["configOverwrite"]
    assert (config["startWithVideoMuted"], config["startAudioOnly"]) == (False, False)
    person.device_check = {**(person.device_check or {}), "audio_only": True}
    config = iframe_options(person, recording=False, now=timezone.now())["configOverwrite"]
    assert (config["startWithVideoMuted"], config["startAudioOnly"], config["startWithAudioMuted"]) == (
        True,
        True,
        False,
    )


def test_the_page_may_time_the_connection_against_the_video_platform(client, soon, settings) -> None:
    settings.VIDEO_BASE_URL = "https://video.example.org"
    response = client.get(f"/join/{soon.public_token}")
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert "https://video.example.org" in directives["connect-src"]
    assert 'data-video-base="https://video.example.org"' in response.content.decode()
