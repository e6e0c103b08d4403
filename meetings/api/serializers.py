"""The meeting and its participants as the API shows them."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import MillisecondsDateTimeField, SecondsDateTimeField
from meetings.models import Meeting, Participant, Role, WaitingMessage
from meetings.services import consent_required, display_name, identity_required, participant_url
from meetings.shape import KEYS
from meetings.waiting import MESSAGE_MAX_LENGTH, PREPARED_MESSAGES, message_text


class MeetingSerializer(serializers.ModelSerializer[Meeting]):
    start_date = SecondsDateTimeField(read_only=True)
    end_date = SecondsDateTimeField(read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "room_name", "room_url", "start_date", "end_date"]
        read_only_fields = fields


class IdentityCheckSerializer(serializers.Serializer):
    required = serializers.BooleanField(help_text="Whether this link asks for the date of birth on record.")  # type: ignore[assignment]
    passed_at = MillisecondsDateTimeField(allow_null=True)
    failed_attempts = serializers.IntegerField()
    locked_at = MillisecondsDateTimeField(allow_null=True, help_text="Set after too many wrong answers.")


class RecordingConsentSerializer(serializers.Serializer):
    required = serializers.BooleanField(help_text="Whether the call is to be recorded, so consent is asked.")  # type: ignore[assignment]
    given = serializers.BooleanField(allow_null=True, help_text="The answer; null until answered.")
    answered_at = MillisecondsDateTimeField(allow_null=True)


class DeviceCheckSerializer(serializers.Serializer):
    checked_at = MillisecondsDateTimeField(allow_null=True)
    camera = serializers.BooleanField(allow_null=True)
    microphone = serializers.BooleanField(allow_null=True)
    downlink_kbps = serializers.IntegerField(allow_null=True, help_text="Measured download speed, kbit/s.")


# The schema's description of meetings.shape.ParticipantShown: the answers are built by `participant_shown`, and
# tests/meetings/test_participant_shape.py compares the two (the docstring below is the schema's description).
class ParticipantSerializer(serializers.ModelSerializer[Participant]):
    """A participant of an appointment's meeting, with their own join link and what their journey recorded."""

    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    display_name = serializers.SerializerMethodField()
    agent_id = serializers.SerializerMethodField(help_text="The agent's: the assigned staff member's id, or null.")
    url = serializers.SerializerMethodField(help_text="Where this participant joins (the agent: the back office).")
    joined_waiting_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    admitted_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    left_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    revoked_at = MillisecondsDateTimeField(read_only=True, allow_null=True)
    identity_check = serializers.SerializerMethodField()
    recording_consent = serializers.SerializerMethodField()
    device_check = serializers.SerializerMethodField()
    # Additive (issue 17.9): present only when set. Not read-only, only so that the schema does not list it as
    # required (see AppointmentSerializer.outcome); nothing writes through this serializer.
    admitted_by_id = serializers.IntegerField(
        required=False,
        help_text="Present only when set: the staff member (or API client's user) who let this participant in, "
        "by starting the session (the claimant waiting then) or admitting an interpreter or a guest. Absent "
        "when nobody has, or when the claimant came in after the session had started.",
    )

    class Meta:
        model = Participant
        fields = list(KEYS)  # the shape's one declaration (meetings.shape), which the answers are built by
        read_only_fields = fields

    def to_representation(self, instance: Participant) -> dict[str, Any]:
        shown = super().to_representation(instance)
        if shown.get("admitted_by_id") is None:
            del shown["admitted_by_id"]  # absent where unset
        return dict(shown)

    @extend_schema_field(serializers.CharField())
    def get_display_name(self, obj: Participant) -> str:
        return display_name(obj)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_agent_id(self, obj: Participant) -> int | None:
        return obj.user_id if obj.role == Role.AGENT else None

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj: Participant) -> str:
        return participant_url(obj)

    @extend_schema_field(IdentityCheckSerializer)
    def get_identity_check(self, obj: Participant) -> dict[str, Any]:
        return IdentityCheckSerializer(
            {
                "required": identity_required(obj),
                "passed_at": obj.identity_checked_at,
                "failed_attempts": obj.identity_failures,
                "locked_at": obj.identity_locked_at,
            }
        ).data

    @extend_schema_field(RecordingConsentSerializer)
    def get_recording_consent(self, obj: Participant) -> dict[str, Any]:
        return RecordingConsentSerializer(
            {
                "required": consent_required(obj),
                "given": obj.recording_consent,
                "answered_at": obj.recording_consent_at,
            }
        ).data

    @extend_schema_field(DeviceCheckSerializer)
    def get_device_check(self, obj: Participant) -> dict[str, Any]:
        found = obj.device_check or {}
        return DeviceCheckSerializer(
            {
                "checked_at": obj.device_checked_at,
                "camera": found.get("camera"),
                "microphone": found.get("microphone"),
                "downlink_kbps": found.get("downlink_kbps"),
            }
        ).data


class TextField(serializers.CharField):
    """Text only: a JSON number or boolean is not a name (DRF's CharField would turn 0 into "0")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class GuestCreateSerializer(serializers.Serializer):
    display_name = TextField(max_length=200, help_text="The guest's name as shown in the meeting.")


class WaitingMessageCreateSerializer(serializers.Serializer):
    """A message to someone in the waiting room: one of the prepared messages, or a short text (not both)."""

    prepared = serializers.ChoiceField(
        choices=list(PREPARED_MESSAGES),
        required=False,
        help_text="A prepared message, shown in the participant's language.",
    )
    text = TextField(required=False, max_length=MESSAGE_MAX_LENGTH, help_text="A short text, shown as written.")


class WaitingMessageSerializer(serializers.ModelSerializer[WaitingMessage]):
    """A message sent to a participant in the waiting room, as their page shows it at its next poll."""

    participant_id = serializers.UUIDField(read_only=True)
    prepared = serializers.SerializerMethodField(help_text="The prepared message's key; null for a text.")
    text = serializers.SerializerMethodField(help_text="What was sent (a prepared message in English).")
    sent_by_id = serializers.IntegerField(allow_null=True)
    created_at = MillisecondsDateTimeField(read_only=True)

    class Meta:
        model = WaitingMessage
        fields = ["id", "participant_id", "prepared", "text", "sent_by_id", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_prepared(self, obj: WaitingMessage) -> str | None:
        return obj.prepared or None

    @extend_schema_field(serializers.CharField())
    def get_text(self, obj: WaitingMessage) -> str:
        return message_text(obj, "en")
