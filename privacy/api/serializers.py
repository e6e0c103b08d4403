"""Bodies and answers of the personal data endpoints (issue 21)."""

from rest_framework import serializers

from config.api.fields import DateField, MillisecondsDateTimeField
from privacy.holds import MAX_REASON


class ReceiptSerializer(serializers.Serializer):
    erased_at = MillisecondsDateTimeField(read_only=True)
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The rows the erasure changed or deleted, per table (history tables included).",
    )


class LegalHoldBodySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, help_text="Why the appointment is kept from erasure.")
    until = DateField(
        required=False, allow_null=True, help_text="The hold's last day (YYYY-MM-DD); without it, until lifted."
    )


class LegalHoldSerializer(serializers.Serializer):
    reason = serializers.CharField(read_only=True)
    until = serializers.DateField(read_only=True, allow_null=True)
    placed_at = MillisecondsDateTimeField(read_only=True)


class ClaimantSearchSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, max_length=254)
    phone = serializers.CharField(required=False, max_length=40)
    date_of_birth = DateField(required=False)
