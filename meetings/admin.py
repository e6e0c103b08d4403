"""Meetings in the back office: listed here, moved only with their appointment."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from meetings.models import Meeting


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["id", "room_name", "start_date", "end_date", "room_url"]
    search_fields = ["room_name", "appointment__reference"]
    date_hierarchy = "start_date"
    show_full_result_count = False
