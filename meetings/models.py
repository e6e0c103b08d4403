"""The video meeting of an appointment."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

MEETING_ID_MIN = 1_000_000_000
MEETING_ID_MAX = 9_999_999_999


class Meeting(models.Model):
    """One per appointment, created with it; its times follow every reschedule of the appointment."""

    # A 10-digit number, as the original's meetings have; drawn at random so it does not count appointments.
    id = models.BigIntegerField(primary_key=True, editable=False)
    appointment = models.OneToOneField("appointments.Appointment", on_delete=models.CASCADE, related_name="meeting")
    room_name = models.CharField(max_length=200)
    room_url = models.URLField(max_length=500, unique=True)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    # Every change, with who made it; services set the user, bulk writes go through simple-history's helpers.
    history = HistoricalRecords(cascade_delete_history=False)

    if TYPE_CHECKING:
        appointment_id: uuid.UUID

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(id__gte=MEETING_ID_MIN, id__lte=MEETING_ID_MAX), name="meeting_id_digits"
            ),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="meeting_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.room_name} ({self.id})"
