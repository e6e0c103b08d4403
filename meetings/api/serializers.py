"""The meeting as the appointment representation shows it."""

from rest_framework import serializers

from config.api.fields import SecondsDateTimeField
from meetings.models import Meeting


class MeetingSerializer(serializers.ModelSerializer[Meeting]):
    start_date = SecondsDateTimeField(read_only=True)
    end_date = SecondsDateTimeField(read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "room_name", "room_url", "start_date", "end_date"]
        read_only_fields = fields
