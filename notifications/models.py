"""Every message sent to a claimant (or about to be), once: the key makes a task that runs twice send once."""

from __future__ import annotations

from django.db import models

from config.personal import Category, Erase, personal


class Kind(models.TextChoices):
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    REMINDER = "reminder"
    MISSED = "missed"  # the organisation missed it: an apology, instead of the cancellation's message


class Channel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"


class NotificationStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    # Not attempted: the service has no way to send by this channel (a text message without SMS_BACKEND).
    NOT_CONFIGURED = "not_configured", "Not configured"
    # Not sent, and never will be: a later change made it moot before it went (a booking moved again before its
    # message left, a reminder of a time that moved or of an appointment no longer live), issue 24.4.
    OVERTAKEN = "overtaken"


class Notification(models.Model):
    appointment = models.ForeignKey("appointments.Appointment", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # What this message is the one of: the event it announces, or the reminder's hours and the time it is for.
    key = models.CharField(max_length=200, unique=True)
    recipient = personal(
        models.CharField(max_length=254), Category.CONTACT, "where the claimant's message went (sent once each)"
    )
    subject = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(max_length=20, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = personal(
        models.CharField(max_length=300, blank=True, default=""),
        Category.COPY,
        "why a message failed (a mail server may name the address)",
        Erase.SCRUB,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()}"
