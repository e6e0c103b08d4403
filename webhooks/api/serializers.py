"""Webhook endpoints as the API shows and takes them."""

from typing import Any

from rest_framework import serializers

from config.api.fields import MillisecondsDateTimeField, StrictBooleanField
from config.api.validation import refuse_only_unknown
from webhooks.models import SUBSCRIBABLE, Attempt, Delivery, Endpoint


class CreatorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_active = serializers.BooleanField(help_text="False: the creator was deactivated; keep or delete the endpoint.")


class EndpointSerializer(serializers.ModelSerializer[Endpoint]):
    department_id = serializers.UUIDField(read_only=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), help_text="The events sent; empty: every event."
    )
    failing_since = MillisecondsDateTimeField(
        allow_null=True, help_text="When deliveries started failing; null while they succeed."
    )
    disabled_reason = serializers.CharField(help_text="Why the service turned the endpoint off, if it did.")
    created_by = CreatorSerializer(
        required=False, help_text="Who created the endpoint (or kept it); absent when not known (older endpoints)."
    )
    previous_secret_expires_at = MillisecondsDateTimeField(
        allow_null=True,
        help_text="After a rotation, until when the previous secret also signs every delivery; null when it does not.",
    )
    created_at = MillisecondsDateTimeField()
    updated_at = MillisecondsDateTimeField()

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "department_id",
            "url",
            "description",
            "event_types",
            "is_active",
            "failing_since",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Endpoint) -> Any:
        data = super().to_representation(instance)
        if data.get("created_by") is None:
            data.pop("created_by", None)  # an additive key: absent rather than null where unknown
        return data


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        help_text="Verifies the `webhook-signature` header (Standard Webhooks); shown when the endpoint is created."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointUpdateSerializer(serializers.Serializer):
    """The fields to change; the URL's rules (https, no credentials) are the service's."""

    url = serializers.CharField(max_length=2000, required=False)
    description = serializers.CharField(max_length=200, allow_blank=True, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), required=False, max_length=len(SUBSCRIBABLE) * 2
    )
    is_active = StrictBooleanField(required=False)

    def to_internal_value(self, data: Any) -> Any:
        # What a GET answered is known too: sent back alone it changes nothing, as for appointments.
        refuse_only_unknown(data, known=self.fields.keys() | set(EndpointWithSecretSerializer.Meta.fields))
        return super().to_internal_value(data)


class RotateSecretSerializer(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=168,
        default=24,
        help_text="How long the previous secret goes on signing beside the new one (0: it stops at once).",
    )

    def to_internal_value(self, data: Any) -> Any:
        refuse_only_unknown(data, known=self.fields.keys())
        return super().to_internal_value(data)


class EndpointCreateSerializer(EndpointUpdateSerializer):
    url = serializers.CharField(max_length=2000)
    department_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Optional when the caller has one department."
    )


class AttemptSerializer(serializers.ModelSerializer[Attempt]):
    at = MillisecondsDateTimeField()

    class Meta:
        model = Attempt
        fields = ["at", "status_code", "error", "duration_ms", "response_body"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    event_id = serializers.SerializerMethodField()
    event_type = serializers.SerializerMethodField()
    created_at = MillisecondsDateTimeField()
    next_attempt_at = MillisecondsDateTimeField(allow_null=True)
    finished_at = MillisecondsDateTimeField(allow_null=True)
    attempt_log = AttemptSerializer(source="attempt_set", many=True, help_text="Newest first.")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "finished_at",
            "attempt_log",
        ]
        read_only_fields = fields

    def get_event_id(self, delivery: Delivery) -> str:
        """The `webhook-id` every attempt carries."""
        return f"msg_{delivery.event.id.hex}"

    def get_event_type(self, delivery: Delivery) -> str:
        return str(delivery.event.type)
