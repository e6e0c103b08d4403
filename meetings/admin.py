"""Meetings in the back office: listed here, moved only with their appointment."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReadOnlyAdmin, local_time
from meetings.models import Meeting


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["id", "room_name", "starts", "ends", "room_url"]
    list_select_related = ["appointment__department"]
    fields = ("appointment", "room_name", "room_url", "starts", "ends")
    readonly_fields = fields

    # Times in the appointment's department's zone, labelled (issue 17.10).
    starts = local_time("start_date", "start date", lambda meeting: meeting.appointment.department)
    ends = local_time("end_date", "end date", lambda meeting: meeting.appointment.department)
    search_fields = ["room_name", "appointment__reference"]
    date_hierarchy = "start_date"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("appointment__department")
