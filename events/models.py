"""The outbox: one row per meaningful change, written in the transaction of the change itself.

A change without its event, or an event without its change, cannot happen; the task queue (also rows in the
same database) fans each event out to webhooks and the claimant's notifications after the commit.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import models

from config.personal import Category, Erase, personal


class EventType(models.TextChoices):
    APPOINTMENT_CREATED = "appointment.created"
    APPOINTMENT_UPDATED = "appointment.updated"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
    APPOINTMENT_STATUS_CHANGED = "appointment.status_changed"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_NO_SHOW = "appointment.no_show"
    # The claimant came to the waiting room and nobody admitted them (issue 17.2): follows `appointment.cancelled`.
    APPOINTMENT_MISSED = "appointment.missed"
    # The claimant's personal data was erased (issue 21.2): carries the appointment's id, reference, department and
    # the time, nothing personal, so subscribers can erase their copies.
    APPOINTMENT_ERASED = "appointment.erased"
    MEETING_STARTED = "meeting.started"
    MEETING_ENDED = "meeting.ended"
    # A session nobody ended, completed by the service once no participant's page had been open for a while after
    # its end (issue 17.3): follows `meeting.ended`.
    MEETING_ABANDONED = "meeting.abandoned"
    PARTICIPANT_JOINED_WAITING_ROOM = "participant.joined_waiting_room"
    # Let in by the agent (issue 17.9): the claimant by the session's start, an interpreter or a guest one by one.
    PARTICIPANT_ADMITTED = "participant.admitted"
    PARTICIPANT_LEFT = "participant.left"
    PARTICIPANT_DEVICE_CHECKED = "participant.device_checked"
    # Sent only to the endpoint a manager pings (`POST /api/v1/webhooks/{id}/test`, or the back office).
    WEBHOOK_TEST = "webhook.test"


class Event(models.Model):
    # `sequence` orders events as they were written; an appointment's events are written under its row lock,
    # so their order is the order of its changes.
    sequence = models.BigAutoField(primary_key=True)
    id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=64, choices=EventType.choices)
    appointment = models.ForeignKey(
        "appointments.Appointment", on_delete=models.CASCADE, related_name="events", null=True, blank=True
    )
    department = models.ForeignKey("appointments.Department", on_delete=models.CASCADE, related_name="events")
    # The webhook's `data` as JSON text, written once (the API's own renderer, keys in the API's order): the
    # appointment's representation as the API returns it, and what changed. Every attempt sends these bytes.
    data = personal(
        models.TextField(), Category.COPY, "what was sent to the department's webhook endpoints", Erase.SCRUB
    )
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["appointment", "sequence"], name="event_appointment_sequence"),
            models.Index(
                fields=["sequence"], condition=models.Q(dispatched_at__isnull=True), name="event_undispatched"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def body(self) -> str:
        """The webhook's body, as the Standard Webhooks specification shapes it: type, timestamp, data."""
        head = json.dumps({"type": self.type, "timestamp": self.created_at.isoformat().replace("+00:00", "Z")})
        return head[:-1] + ',"data":' + self.data + "}"

    @property
    def content(self) -> dict[str, Any]:
        return dict(json.loads(self.data))
