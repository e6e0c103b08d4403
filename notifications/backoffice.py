"""What the claimant was sent, on the appointment's page (issue 24.4): each message (booked, moved, reminders,
cancelled) by channel with its status, and "Send again" for one that failed, through notification_send_again.
Registered into the appointment admin from NotificationsConfig.ready() (its panel and its route)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse

from appointments.admin.views import ONE, Route
from appointments.models import Appointment
from config.local_time import local_label
from notifications.models import Channel, Kind, Notification, NotificationStatus
from notifications.services import CannotSendAgain, notification_send_again

# What each kind of message is, as staff say it.
KINDS = {
    Kind.BOOKED: "Booked",
    Kind.RESCHEDULED: "Moved",
    Kind.CANCELLED: "Cancelled",
    Kind.REMINDER: "Reminder",
    Kind.MISSED: "Apology (missed by the organisation)",
}
CHANNELS = {Channel.EMAIL: "Email", Channel.SMS: "SMS"}
STATUSES = {
    NotificationStatus.SENT: "Sent",
    NotificationStatus.FAILED: "Failed",
    NotificationStatus.PENDING: "Sending",
    NotificationStatus.NOT_CONFIGURED: "Not configured",
    NotificationStatus.OVERTAKEN: "Overtaken",
}
# Who may send a message again: whoever may change the appointment (agents and managers).
SEND_AGAIN = "appointments.change_appointment"


@dataclass(frozen=True)
class Row:
    """One message as the panel lists it."""

    notification: Notification
    what: str  # `Reminder, 24 hours before`
    channel: str
    status: str  # `Sent`, `Failed`...
    detail: str  # when it was sent, why it failed or was not sent
    can_send_again: bool


def _what(note: Notification) -> str:
    if note.kind == Kind.REMINDER:
        hours = note.key.split(":")[1]
        return f"Reminder, {hours} hours before" if hours != "1" else "Reminder, 1 hour before"
    return KINDS.get(Kind(note.kind), note.kind) if note.kind in Kind.values else note.kind


def _detail(note: Notification, appointment: Appointment) -> str:
    zone = appointment.zone
    if note.status == NotificationStatus.SENT and note.sent_at is not None:
        return local_label(note.sent_at, zone)
    if note.status == NotificationStatus.FAILED:
        return f"after {note.attempts} tries: {note.error}" if note.error else f"after {note.attempts} tries"
    if note.status == NotificationStatus.PENDING:
        return f"tried {note.attempts} times, trying again: {note.error}" if note.attempts else "about to be sent"
    if note.status == NotificationStatus.NOT_CONFIGURED:
        return "this service has no SMS backend"
    return "a later change made it moot before it was sent"


def rows(appointment: Appointment) -> list[Row]:
    """The appointment's messages, oldest first (one query)."""
    notes = Notification.objects.filter(appointment_id=appointment.pk).order_by("created_at", "id")
    return [
        Row(
            note,
            _what(note),
            CHANNELS.get(Channel(note.channel), note.channel) if note.channel in Channel.values else note.channel,
            STATUSES.get(NotificationStatus(note.status), note.status),
            _detail(note, appointment),
            note.status == NotificationStatus.FAILED,
        )
        for note in notes
    ]


def panel(appointment: Appointment) -> str:
    """The section's HTML (appointments.hooks.messages_panel)."""
    return render_to_string(
        "admin/notifications/messages_panel.html", {"appointment": appointment, "rows": rows(appointment)}
    )


def send_again(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: uuid.UUID, notification_id: int
) -> HttpResponse:
    """POST: a failed message sent again (the change form's CSRF token comes with it), for staff who may change
    the appointment, in their departments (else the same 404)."""
    if not request.user.has_perm(SEND_AGAIN):
        raise PermissionDenied
    appointment = model_admin.get_queryset(request).filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    try:
        note = notification_send_again(
            notification_id=notification_id, appointment_id=appointment.pk, actor=request.user
        )
    except CannotSendAgain as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"{_what(note)} by {CHANNELS.get(Channel(note.channel), note.channel)}: sending again."
        )
    return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[appointment.pk]) + "#messages")


ROUTES = (
    Route(f"{ONE}/messages/<int:notification_id>/send-again/", send_again, "notifications_send_again", post_only=True),
)
