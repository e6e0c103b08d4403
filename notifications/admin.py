from django.contrib import admin

from config.admin import ReadOnlyAdmin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Every message sent to a claimant, or being tried: what, to whom (a phone number masked), and when."""

    list_display = ["created_at", "appointment", "kind", "channel", "recipient", "status", "attempts", "sent_at"]
    list_filter = ["kind", "channel", "status"]
    list_select_related = ["appointment"]
    search_fields = ["appointment__reference"]
    fields = ("appointment", "kind", "channel", "recipient", "subject", "status", "attempts", "error", "sent_at")
    readonly_fields = fields
