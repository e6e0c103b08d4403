"""The meeting of an appointment: created with it, moved with every reschedule."""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction

from meetings.models import MEETING_ID_MAX, MEETING_ID_MIN, Meeting

if TYPE_CHECKING:
    from appointments.models import Appointment

_ROOM_ALPHABET = string.ascii_letters + string.digits
_ROOM_PATH_LENGTH = 24  # about 143 bits: a room cannot be found by guessing


def _room_path() -> str:
    return "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(_ROOM_PATH_LENGTH))


def meeting_for(*, appointment: Appointment, actor: Any = None) -> Meeting:
    """Create the appointment's meeting: a random 10-digit id and an unguessable room on VIDEO_BASE_URL."""
    for _attempt in range(5):
        meeting = Meeting(
            id=MEETING_ID_MIN + secrets.randbelow(MEETING_ID_MAX - MEETING_ID_MIN + 1),
            appointment=appointment,
            room_name=f"Appointment {appointment.reference}",
            room_url=f"{settings.VIDEO_BASE_URL}/{_room_path()}",
            start_date=appointment.appointment_at,
            end_date=appointment.ends_at,
        )
        meeting._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
        try:
            # A savepoint, so that a clash of random ids does not spoil the caller's transaction.
            with transaction.atomic():
                meeting.save(force_insert=True)
        except IntegrityError:
            if Meeting.objects.filter(appointment=appointment).exists():
                raise
            continue
        return meeting
    raise RuntimeError("could not draw a free meeting id in 5 attempts")


def meeting_follow_appointment(*, meeting: Meeting, appointment: Appointment, actor: Any = None) -> list[str]:
    """Move the meeting to the appointment's time and length; returns the columns it changed."""
    changed: list[str] = []
    if meeting.start_date != appointment.appointment_at:
        meeting.start_date = appointment.appointment_at
        changed.append("start_date")
    if meeting.end_date != appointment.ends_at:
        meeting.end_date = appointment.ends_at
        changed.append("end_date")
    if changed:
        meeting._history_user = actor  # type: ignore[attr-defined]
        meeting.save(update_fields=changed)
    return changed
