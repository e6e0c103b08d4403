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
DRAW_ATTEMPTS = 5


def _room_path() -> str:
    return "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(_ROOM_PATH_LENGTH))


def meeting_for(*, appointment: Appointment, actor: Actor = None) -> Meeting:
    """Create the appointment's meeting: a random 10-digit id and an unguessable room on VIDEO_BASE_URL.

    An id already taken (rare) writes nothing (`ON CONFLICT ... DO NOTHING`) and is drawn again, in the same
    transaction: no check before and no savepoint are spent on every meeting."""
    meeting = Meeting(
        id=_meeting_id(),
        appointment=appointment,
        room_name=f"Appointment {appointment.reference}",
        room_url=f"{settings.VIDEO_BASE_URL}/{_room_path()}",
        start_date=appointment.appointment_at,
        end_date=appointment.ends_at,
    )
    for _attempt in range(DRAW_ATTEMPTS):
        if insert_with_history([meeting], actor, unless_taken=("id",)):
            return meeting
        meeting.id = _meeting_id()
    raise RuntimeError(f"could not draw a free meeting id in {DRAW_ATTEMPTS} attempts")


def _meeting_id() -> int:
    return MEETING_ID_MIN + secrets.randbelow(MEETING_ID_MAX - MEETING_ID_MIN + 1)


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
