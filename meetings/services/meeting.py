"""The meeting of an appointment: created with it (a random id, an unguessable room), moved with every
reschedule."""

from __future__ import annotations

import secrets
import string

from django.conf import settings

from appointments.models import Appointment
from config.actors import Actor
from config.history import insert_with_history, update_with_history
from meetings.models import MEETING_ID_MAX, MEETING_ID_MIN, Meeting

_ROOM_ALPHABET = string.ascii_letters + string.digits
_ROOM_PATH_LENGTH = 24  # about 143 bits: a room cannot be found by guessing


def _room_path() -> str:
    return "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(_ROOM_PATH_LENGTH))


def meeting_for(*, appointment: Appointment, actor: Actor = None) -> Meeting:
    """Create the appointment's meeting: a random 10-digit id and an unguessable room on VIDEO_BASE_URL.

    An id already taken (rare) raises IntegrityError and spoils the transaction: the caller starts again with a
    new draw (appointment_create runs the whole create again), so no savepoint is spent on every meeting."""
    meeting = Meeting(
        id=MEETING_ID_MIN + secrets.randbelow(MEETING_ID_MAX - MEETING_ID_MIN + 1),
        appointment=appointment,
        room_name=f"Appointment {appointment.reference}",
        room_url=f"{settings.VIDEO_BASE_URL}/{_room_path()}",
        start_date=appointment.appointment_at,
        end_date=appointment.ends_at,
    )
    insert_with_history([meeting], actor)
    return meeting


def meeting_follow_appointment(*, meeting: Meeting, appointment: Appointment, actor: Actor = None) -> list[str]:
    """Move the meeting to the appointment's time and length; returns the columns it changed."""
    changed = meeting_moved(meeting=meeting, appointment=appointment)
    if changed:
        update_with_history([meeting], changed, actor)
    return changed


def meeting_moved(*, meeting: Meeting, appointment: Appointment) -> list[str]:
    """The meeting moved to the appointment's time and length in memory (meeting_follow_appointment writes it, a
    dry run shows it); returns the columns it changed."""
    changed: list[str] = []
    if meeting.start_date != appointment.appointment_at:
        meeting.start_date = appointment.appointment_at
        changed.append("start_date")
    if meeting.end_date != appointment.ends_at:
        meeting.end_date = appointment.ends_at
        changed.append("end_date")
    return changed
