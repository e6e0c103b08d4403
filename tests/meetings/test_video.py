"""Join tokens per role (claims, window edges, moderator, consent), reschedules and cancels, and the embedded
meeting's settings from the appointment's features."""

from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_update
from meetings.models import Participant, Role
from meetings.services import join_window, participant_invite_guest
from meetings.video import iframe_options, join_token, room_of
from tests.helpers import rewrite

SECRET = "test-secret-for-hs256-tokens-only-32b"


@pytest.fixture
def hs256(settings):
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = SECRET
    settings.JITSI_PRIVATE_KEY = ""
    settings.VIDEO_BASE_URL = "https://video.example.org"


def person(appointment, role: str) -> Participant:
    found = Participant.objects.select_related(
        "appointment__claimant", "appointment__meeting", "appointment__department"
    )
    return found.get(appointment=appointment, role=role, revoked_at__isnull=True)


def decode(token: Any) -> dict:
    assert isinstance(token, str)
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False})


def test_no_token_without_configuration(appointment, settings) -> None:
    settings.JITSI_APP_ID = ""
    assert join_token(person(appointment, Role.CLAIMANT), recording=False, now=timezone.now()) is None
    assert iframe_options(person(appointment, Role.CLAIMANT), recording=False, now=timezone.now())["jwt"] is None


@pytest.mark.parametrize(("role", "moderator"), [(Role.AGENT, True), (Role.CLAIMANT, False), (Role.GUEST, False)])
def test_claims_of_each_role(hs256, appointment, agent, role, moderator) -> None:
    rewrite(Appointment.objects.filter(pk=appointment.pk), features_call_recording_enable=True)
    if role == Role.GUEST:
        participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
    participant = person(appointment, role)
    claims = decode(join_token(participant, recording=True, now=timezone.now()))
    window = join_window(participant.appointment)
    assert claims["iss"] == "appointments"
    assert claims["sub"] == "video.example.org"
    assert claims["room"] == room_of(participant.appointment)
    assert participant.appointment.meeting.room_url.endswith("/" + claims["room"])
    assert claims["nbf"] == int(window.opens_at.timestamp())
    assert claims["exp"] == int(window.closes_at.timestamp())
    assert claims["context"]["user"]["moderator"] is moderator
    assert claims["context"]["user"]["id"] == str(participant.pk)
    # Recording is a moderator's feature, and only when everyone asked consented (recording=True here).
    assert claims["context"]["features"]["recording"] == ("true" if moderator else "false")
    expected_name = "Ada Lovelace" if role == Role.CLAIMANT else participant.display_name
    assert claims["context"]["user"]["name"] == expected_name


def test_without_consent_nobody_may_record(hs256, appointment) -> None:
    claims = decode(join_token(person(appointment, Role.AGENT), recording=False, now=timezone.now()))
    assert claims["context"]["features"]["recording"] == "false"


def test_a_token_for_a_later_appointment_is_not_valid_yet(hs256, appointment) -> None:
    token: Any = join_token(person(appointment, Role.CLAIMANT), recording=False, now=timezone.now())
    with pytest.raises(jwt.ImmatureSignatureError):  # the appointment is two days away: its window is not open
        jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi")


def test_a_token_inside_the_window_is_valid_and_expires_with_it(hs256, department) -> None:
    from tests.factories import make_appointment

    soon = make_appointment(department, appointment_at=timezone.now() + timedelta(minutes=5), duration_in_minutes=10)
    token: Any = join_token(person(soon, Role.CLAIMANT), recording=False, now=timezone.now())
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi")  # nbf and exp checked against now
    assert claims["exp"] == int(join_window(soon).closes_at.timestamp())
    late = -(claims["exp"] - claims["iat"] + 60)  # a negative leeway moves "now" past the window's end
    checks: Any = {"verify_iat": False, "verify_nbf": False}
    with pytest.raises(jwt.ExpiredSignatureError):  # a minute after the window closes it is refused
        jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", leeway=late, options=checks)


def test_a_reschedule_moves_the_token_window(hs256, appointment, agent) -> None:
    before = decode(join_token(person(appointment, Role.CLAIMANT), recording=False, now=timezone.now()))
    later = appointment.appointment_at + timedelta(days=3)
    appointment_update(appointment=appointment, data={"appointment_at": later}, actor=agent.user)
    after = decode(join_token(person(appointment, Role.CLAIMANT), recording=False, now=timezone.now()))
    assert after["nbf"] - before["nbf"] == after["exp"] - before["exp"] == 3 * 24 * 3600


def test_jaas_tokens_are_rs256_with_the_key_id(appointment, settings) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings.JITSI_APP_ID = "vpaas-magic-cookie-123"
    settings.JITSI_APP_SECRET = ""
    settings.JITSI_PRIVATE_KEY = pem
    settings.JITSI_KEY_ID = "vpaas-magic-cookie-123/abc"
    participant = person(appointment, Role.CLAIMANT)
    options: Any = iframe_options(participant, recording=False, now=timezone.now())
    header = jwt.get_unverified_header(options["jwt"])
    assert (header["alg"], header["kid"]) == ("RS256", "vpaas-magic-cookie-123/abc")
    claims = jwt.decode(
        options["jwt"], key.public_key(), algorithms=["RS256"], audience="jitsi", options={"verify_nbf": False}
    )
    assert (claims["iss"], claims["sub"]) == ("chat", "vpaas-magic-cookie-123")
    assert options["roomName"] == f"vpaas-magic-cookie-123/{room_of(participant.appointment)}"


def test_the_meeting_settings_follow_the_features(hs256, department, agent) -> None:
    from tests.factories import make_appointment

    appointment = make_appointment(
        department,
        features_messages_chat_enable=False,
        features_screen_sharing_enable=False,
        features_participant_list_enable=False,
        features_webcam_access_claimant_enable=False,
        features_bandwidth="low",
    )
    claimant = iframe_options(person(appointment, Role.CLAIMANT), recording=False, now=timezone.now())
    config = claimant["configOverwrite"]
    for button in ("chat", "desktop", "participants-pane", "camera", "recording"):
        assert button not in config["toolbarButtons"]
    assert config["startWithVideoMuted"] is True
    assert config["disableChat"] is True
    assert config["resolution"] == 360
    agent_options = iframe_options(person(appointment, Role.AGENT), recording=True, now=timezone.now())
    assert "camera" in agent_options["configOverwrite"]["toolbarButtons"]  # the agent's webcam flag is on
    # The appointment does not ask for recording, so nobody records whatever the consent.
    assert "recording" not in agent_options["configOverwrite"]["toolbarButtons"]
    assert claimant["roomName"] == room_of(appointment)
    assert claimant["domain"] == "video.example.org"


@pytest.mark.parametrize(
    ("found", "video_muted", "audio_muted"),
    [
        (None, False, False),  # not checked: as the features say
        ({"camera": True, "microphone": True}, False, False),
        ({"camera": False, "microphone": True, "camera_problem": "blocked"}, True, False),
        ({"camera": True, "microphone": False, "microphone_problem": "blocked"}, False, True),
        (
            {"camera": False, "microphone": False, "camera_problem": "blocked", "microphone_problem": "missing"},
            True,
            True,
        ),
    ],
)
def test_a_device_that_failed_the_check_starts_muted_with_its_button_kept(
    hs256, appointment, found, video_muted, audio_muted
) -> None:
    claimant = person(appointment, Role.CLAIMANT)
    checked_at = timezone.now() if found else None
    rewrite(Participant.objects.filter(pk=claimant.pk), device_check=found, device_checked_at=checked_at)
    claimant.refresh_from_db()
    config = iframe_options(claimant, recording=False, now=timezone.now())["configOverwrite"]
    assert (config["startWithVideoMuted"], config["startWithAudioMuted"]) == (video_muted, audio_muted)
    assert {"camera", "microphone"} <= set(config["toolbarButtons"])  # to turn them on once access is allowed
