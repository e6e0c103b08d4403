"""The video platform (Jitsi): who may join which room until when (a JWT minted per join, never stored), and
how the embedded meeting is set up from the appointment's features.

With JITSI_APP_ID and a shared secret (self-hosted Jitsi's token authentication) tokens are HS256; with a JaaS
private key and key id they are RS256 with JaaS's claims. Without either the page embeds the plain room.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from appointments.models import Appointment, Bandwidth
from config.languages import first_of
from meetings.devices import device_states
from meetings.models import Participant, Role
from meetings.services import display_name, join_window, token_expires_at

# The embedded meeting's video resolution per bandwidth setting (Jitsi's `resolution`, and the height it asks for).
RESOLUTION = {Bandwidth.LOW: 360, Bandwidth.MEDIUM: 540, Bandwidth.HIGH: 720}
# Toolbar buttons and the feature flag (and role) each depends on; buttons with no flag are always there.
TOOLBAR = [
    ("microphone", None),
    ("camera", None),
    ("desktop", "features_screen_sharing_enable"),
    ("chat", "features_messages_chat_enable"),
    ("participants-pane", "features_participant_list_enable"),
    ("select-background", "features_webcam_background_blurring_enable"),
    ("recording", "features_call_recording_enable"),
    ("raisehand", None),
    ("tileview", None),
    ("settings", None),
    ("fullscreen", None),
    ("hangup", None),
]


def tokens_enabled() -> bool:
    return bool(settings.JITSI_APP_ID and (settings.JITSI_APP_SECRET or settings.JITSI_PRIVATE_KEY))


def _jaas() -> bool:
    return not settings.JITSI_APP_SECRET and bool(settings.JITSI_PRIVATE_KEY)


def room_of(appointment: Appointment) -> str:
    """The room's name on the platform: the last part of the meeting's unguessable room URL."""
    return urlsplit(appointment.meeting.room_url).path.strip("/").rsplit("/", 1)[-1]


def video_domain() -> str:
    """The platform's host (and port), as JitsiMeetExternalAPI takes it."""
    return urlsplit(settings.VIDEO_BASE_URL).netloc


def video_origin() -> str:
    parts = urlsplit(settings.VIDEO_BASE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def embedding_headers(response: Any) -> Any:
    """Headers of a page that embeds the meeting: not cached, no referrer (a token may be in its path), and the
    video platform's origin, and only that, added to the CSP's script-src and frame-src."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    # connect-src: the device check times a download from the video platform's host where it can (issue 22.5).
    response._csp_update = {
        "script-src": [video_origin()],
        "frame-src": [video_origin()],
        "connect-src": [video_origin()],
    }
    return response


def _can_use_camera(appointment: Appointment, role: str) -> bool:
    if role == Role.AGENT:
        return appointment.features_webcam_access_agent_enable
    return appointment.features_webcam_access_claimant_enable


def meeting_features(appointment: Appointment, recording: bool, role: str) -> dict[str, bool]:
    """What this participant may use in the meeting, from the appointment's flags (recording only with consent)."""
    return {
        "recording": recording and appointment.features_call_recording_enable and role == Role.AGENT,
        "livestreaming": False,
        "transcription": False,
        "outbound-call": False,
        "screen-sharing": appointment.features_screen_sharing_enable,
        "camera": _can_use_camera(appointment, role),
        "microphone": appointment.features_microphone_access_enable,
        "chat": appointment.features_messages_chat_enable,
        "participant-list": appointment.features_participant_list_enable,
        "breakout-rooms": appointment.features_breakout_room_enable and role == Role.AGENT,
        "background-blur": appointment.features_webcam_background_blurring_enable,
    }


def join_token(participant: Participant, *, recording: bool, now: datetime) -> str | None:
    """A JWT for this join, valid over the join window only (nbf, exp; while the session is in progress, also past
    its end: token_expires_at); None when tokens are not configured.

    Minted when the page is rendered and never stored: a reschedule moves the window, a cancel means no page
    mints one any more. Only the agent is a moderator.
    """
    if not tokens_enabled():
        return None
    appointment = participant.appointment
    window = join_window(appointment)
    moderator = participant.role == Role.AGENT
    features = meeting_features(appointment, recording, participant.role)
    claims: dict[str, Any] = {
        "aud": "jitsi",
        "iss": "chat" if _jaas() else settings.JITSI_APP_ID,
        "sub": settings.JITSI_APP_ID if _jaas() else video_domain(),
        "room": room_of(appointment),
        "iat": int(now.timestamp()),
        "nbf": int(window.opens_at.timestamp()),
        "exp": int(token_expires_at(appointment, now).timestamp()),
        "context": {
            "user": {
                "id": str(participant.pk),
                "name": display_name(participant),
                "moderator": moderator,
                "role": participant.role,
            },
            "features": {name: "true" if allowed else "false" for name, allowed in features.items()},
        },
        "moderator": moderator,
    }
    if _jaas():
        return jwt.encode(claims, settings.JITSI_PRIVATE_KEY, algorithm="RS256", headers={"kid": settings.JITSI_KEY_ID})
    return jwt.encode(claims, settings.JITSI_APP_SECRET, algorithm="HS256")


def iframe_options(participant: Participant, *, recording: bool, now: datetime) -> dict[str, Any]:
    """The options the page gives JitsiMeetExternalAPI: room, token, the participant's name, and the meeting's
    settings from the appointment's features."""
    appointment = participant.appointment
    role = participant.role
    features = meeting_features(appointment, recording, role)
    flags = {
        "features_screen_sharing_enable": features["screen-sharing"],
        "features_messages_chat_enable": features["chat"],
        "features_participant_list_enable": features["participant-list"],
        "features_webcam_background_blurring_enable": features["background-blur"],
        "features_call_recording_enable": features["recording"],
    }
    buttons = [name for name, flag in TOOLBAR if flag is None or flags[flag]]
    if not features["camera"]:
        buttons.remove("camera")
    if not features["microphone"]:
        buttons.remove("microphone")
    devices = device_states(participant)
    audio_only = (participant.device_check or {}).get("audio_only") is True
    height = RESOLUTION[Bandwidth(appointment.features_bandwidth)]
    room = room_of(appointment)
    token = join_token(participant, recording=recording, now=now)
    return {
        "domain": video_domain(),
        "roomName": f"{settings.JITSI_APP_ID}/{room}" if token and _jaas() else room,
        "jwt": token,
        "userInfo": {"displayName": display_name(participant)},
        # The platform's own buttons and messages in the page's language (issue 22.1), where it has it.
        "lang": first_of(translation.get_language()),
        "configOverwrite": {
            "defaultLanguage": first_of(translation.get_language()),
            "prejoinConfig": {"enabled": False},  # the service's own page did the device check
            "disableDeepLinking": True,
            # Muted too when the device check found it refused or broken: the platform would otherwise ask again
            # or fail at the start; the button stays, to turn it on once access is allowed.
            # ... and when the participant chose to join by audio only at the end of the test call (issue 22.5).
            "startWithVideoMuted": not features["camera"] or devices["camera"] not in ("", "working") or audio_only,
            "startAudioOnly": audio_only,
            "startWithAudioMuted": not features["microphone"] or devices["microphone"] not in ("", "working"),
            "toolbarButtons": buttons,
            "disableChat": not features["chat"],
            "disableVirtualBackground": not features["background-blur"],
            "fileRecordingsEnabled": features["recording"],
            "localRecording": {"disable": True},
            "liveStreamingEnabled": False,
            "breakoutRooms": {
                "hideAddRoomButton": not features["breakout-rooms"],
                "hideAutoAssignButton": not features["breakout-rooms"],
            },
            "resolution": height,
            "constraints": {"video": {"height": {"ideal": height, "max": height, "min": 180}}},
            "subject": gettext("%(department)s appointment") % {"department": appointment.department.shown_name},
        },
        "interfaceConfigOverwrite": {"SHOW_JITSI_WATERMARK": False, "MOBILE_APP_PROMO": False},
    }
