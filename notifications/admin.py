from typing import Any

from django.contrib import admin

from config.admin import ReadOnlyAdmin, local_time
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Every message sent to a claimant, or being tried: what, to whom (a phone number masked), and when."""

    list_display = ["created", "appointment", "kind", "channel", "recipient", "status", "attempts", "sent"]
    list_filter = ["kind", "channel", "status"]
    list_select_related = ["appointment__department"]
    search_fields = ["appointment__reference"]
    fields = (
        "appointment",
        "kind",
        "channel",
        "recipient",
        "subject",
        "status",
        "attempts",
        "error",
        "created",
        "sent",
    )
    readonly_fields = fields

    # Times in the appointment's department's zone, labelled (issue 17.10), as the appointment's own name is.
    created = local_time("created_at", "created", lambda notification: notification.appointment.department)
    sent = local_time("sent_at", "sent", lambda notification: notification.appointment.department)

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("appointment__department")
