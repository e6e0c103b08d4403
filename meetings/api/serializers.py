"""The meeting as the appointment representation shows it."""

from datetime import UTC, datetime

from rest_framework import serializers

from meetings.models import Meeting


class SecondsDateTimeField(serializers.DateTimeField):
    """Meeting dates are written `2021-01-30T08:30:00Z` (the seed's example), always in UTC."""

    def to_representation(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MeetingSerializer(serializers.ModelSerializer[Meeting]):
    start_date = SecondsDateTimeField(read_only=True)
    end_date = SecondsDateTimeField(read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "room_name", "room_url", "start_date", "end_date"]
        read_only_fields = fields
