"""A session that runs over its time (issue 17.3): one in progress past its end that nobody ended is listed under
"Needs attention", and completed by the service once no participant's page has been open (polled by the
claimant's, interpreter's and guest's pages; the agent's meeting page beats too) for SESSION_ABANDONED_MINUTES.

The worker checks each session from its end (appointment_check_abandoned, enqueued when the meeting starts, and
again for the moment it would be due while someone is still there); the `complete_abandoned_sessions` command does
the same for cron, as a safety net.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.selectors import appointment_locked
from appointments.services.update import change  # the one way an appointment changes, under its row lock
from config.transactions import block
from events.models import EventType
from events.services import events_record


def session_quiet_since(appointment: Appointment) -> datetime:
    """When a participant's page was last open (its last poll or heartbeat), or the session's start if none was
    seen since."""
    seen = appointment.participants.aggregate(last=Max("last_seen_at"))["last"]
    started = appointment.session_started_at or appointment.appointment_at
    return max(seen, started) if seen is not None else started


def session_abandoned_from(appointment: Appointment) -> datetime:
    """The moment an in-progress session counts as abandoned: its end has passed and no participant's page has
    been open for SESSION_ABANDONED_MINUTES."""
    idle = timedelta(minutes=settings.SESSION_ABANDONED_MINUTES)
    return max(appointment.ends_at, session_quiet_since(appointment) + idle)


def appointments_complete_abandoned(
    *, now: datetime | None = None, appointment_id: uuid.UUID | str | None = None
) -> list[Appointment]:
    """Complete each session in progress past its end whose participants' pages have all been closed for
    SESSION_ABANDONED_MINUTES. The session's end (`session_ended_at`) is when the last page was last open, not the
    moment it was noticed. Events: what a completion raises (`appointment.updated`, `status_changed`,
    `meeting.ended`), then `meeting.abandoned`. Each appointment changes in its own transaction under its row lock,
    so this is safe beside the API: one ended or extended meanwhile is left alone. `appointment_id` limits it to
    one appointment (the worker's check)."""
    now = now or timezone.now()
    due = Appointment.objects.filter(status=Status.IN_PROGRESS, meeting__end_date__lt=now).order_by("meeting__end_date")
    if appointment_id is not None:
        due = due.filter(pk=appointment_id)
    completed = []
    for candidate in due.only("pk"):
        try:
            with block():
                locked = appointment_locked(candidate.pk)
                if locked.status != Status.IN_PROGRESS or session_abandoned_from(locked) > now:
                    continue
                quiet = session_quiet_since(locked)
                updated = change(locked, {"status": Status.COMPLETED}, None, None, quiet)
                idle = {"last_seen_at": quiet, "idle_minutes": settings.SESSION_ABANDONED_MINUTES}
                events = [(EventType.MEETING_ABANDONED, {"abandoned": idle})]
                events_record(
                    appointment=updated, events=events, actor=None, representation=updated.recorded_representation
                )
        except ValidationError:
            continue
        completed.append(updated)
    return completed
