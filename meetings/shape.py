"""A participant as the API shows it (`GET …/participants`, a guest's invitation, an admission), declared once.

`ParticipantShown` holds each key in the answer's order and its type; `participant_shown` builds it from a
participant in memory with the rules of meetings.services (who is named how, where each joins, which checks are
asked), without DRF: `ParticipantSerializer` (meetings/api/serializers.py) describes it for the schema, takes its
`fields` from `KEYS`, and tests/meetings/test_participant_shape.py compares the two for every state of a participant,
byte for byte (issue 26.2: the list built by DRF cost 3.7 times the floor).
"""

# No `from __future__ import annotations`: NotRequired is read at import time (see appointments.shape).

from typing import NotRequired, TypedDict, cast, get_type_hints

from config.api.fields import milliseconds
from meetings.models import Participant, Role
from meetings.services import consent_required, display_name, identity_required, participant_url


class IdentityCheckShown(TypedDict):
    required: bool
    passed_at: str | None
    failed_attempts: int
    locked_at: str | None


class RecordingConsentShown(TypedDict):
    required: bool
    given: bool | None
    answered_at: str | None


class DeviceCheckShown(TypedDict):
    checked_at: str | None
    camera: bool | None
    microphone: bool | None
    downlink_kbps: int | None


class ParticipantShown(TypedDict):
    """The participant, key for key in the answer's order."""

    id: str
    role: str
    display_name: str
    agent_id: int | None
    url: str
    joined_waiting_at: str | None
    admitted_at: str | None
    left_at: str | None
    revoked_at: str | None
    identity_check: IdentityCheckShown
    recording_consent: RecordingConsentShown
    device_check: DeviceCheckShown
    # Additive (issue 17.9): present only when set.
    admitted_by_id: NotRequired[int]


# The keys in the answer's order (the serializer's `fields`).
KEYS = tuple(get_type_hints(ParticipantShown))


def participant_shown(participant: Participant) -> ParticipantShown:
    """The participant as the API shows it; its appointment (with its claimant) and, for the agent, its user loaded."""
    found = participant.device_check or {}
    shown = {
        "id": str(participant.pk),
        "role": participant.role,
        "display_name": display_name(participant),
        "agent_id": participant.user_id if participant.role == Role.AGENT else None,
        "url": participant_url(participant),
        "joined_waiting_at": milliseconds(participant.joined_waiting_at),
        "admitted_at": milliseconds(participant.admitted_at),
        "left_at": milliseconds(participant.left_at),
        "revoked_at": milliseconds(participant.revoked_at),
        "identity_check": {
            "required": identity_required(participant),
            "passed_at": milliseconds(participant.identity_checked_at),
            "failed_attempts": participant.identity_failures,
            "locked_at": milliseconds(participant.identity_locked_at),
        },
        "recording_consent": {
            "required": bool(consent_required(participant)),
            "given": participant.recording_consent,
            "answered_at": milliseconds(participant.recording_consent_at),
        },
        "device_check": {
            "checked_at": milliseconds(participant.device_checked_at),
            "camera": found.get("camera"),
            "microphone": found.get("microphone"),
            "downlink_kbps": found.get("downlink_kbps"),
        },
    }
    if participant.admitted_by_id is not None:
        shown["admitted_by_id"] = participant.admitted_by_id
    return cast(ParticipantShown, shown)
