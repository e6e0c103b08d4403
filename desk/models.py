"""A staff member's own records beside an appointment: internal notes (issue 24.3) and their calendar feed's
secret (issue 24.6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from appointments.models import Appointment
from config.personal import Category, personal


class Note(models.Model):
    """An internal note on an appointment, by a staff member: seen only in the back office, never in the API's
    representation, an event, a webhook or a message to the claimant. Written once (a correction is another note),
    kept in history as every appointment record is, and its text emptied when the claimant's data is erased (who
    wrote it and when stay: staff's record of their own work)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = personal(
        models.TextField(max_length=4000, null=True),
        Category.CASE_DATA,
        "staff's internal notes about the appointment (free text)",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["appointment", "created_at"], name="desk_note_appointment_idx")]

    def __str__(self) -> str:
        return f"Note {self.pk} on {self.appointment_id}"


class CalendarFeed(models.Model):
    """A staff member's private calendar feed (issue 24.6): only the SHA-256 digest of its secret is kept, so the
    address is shown once, when made or rotated. Rotating replaces the digest (the old address answers 404);
    leaving (config.leaving) deletes the row."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"
