"""What follows an appointment's creation and change, registered as appointments' followers (appointments/hooks.py)
from MeetingsConfig.ready(): they run inside the appointment's service transaction, under its row lock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError

from appointments.hooks import DrawnValueTaken
from appointments.models import Appointment, Status
from appointments.services.planning import AGENT_FIELDS, INTERPRETER_FIELDS, SCHEDULE_FIELDS
from config.actors import Actor
from events.models import EventType
from events.services import Pending, participant_event
from meetings.services.meeting import meeting_follow_appointment, meeting_for
from meetings.services.participants import (
    participants_admit,
    participants_follow_agent,
    participants_follow_appointment,
    participants_for_new_appointment,
)


def follow_create(*, appointment: Appointment, actor: Actor) -> None:
    """The new appointment's meeting (its id drawn at random: taken already, the create is tried again) and its
    participants."""
    try:
        meeting_for(appointment=appointment, actor=actor)
    except IntegrityError:
        raise DrawnValueTaken from None
    participants_for_new_appointment(appointment=appointment, actor=actor)


def follow_change(*, appointment: Appointment, changes: Mapping[str, Any], actor: Actor) -> list[Pending]:
    """What moves with an appointment's change: its meeting's times, and its participants (the claimant admitted
    when the session starts, with their `participant.admitted` event; the interpreter's link kept in step; the
    agent's following the assigned agent)."""
    admitted = []
    if set(SCHEDULE_FIELDS) & changes.keys():
        meeting_follow_appointment(meeting=appointment.meeting, appointment=appointment, actor=actor)
    if changes.get("status") == Status.IN_PROGRESS:
        admitted = participants_admit(appointment=appointment, now=changes["session_started_at"], actor=actor)
    if set(INTERPRETER_FIELDS) & changes.keys():
        participants_follow_appointment(appointment=appointment, actor=actor)
    if set(AGENT_FIELDS) & changes.keys():
        participants_follow_agent(appointment=appointment, actor=actor)
    return [participant_event(person, EventType.PARTICIPANT_ADMITTED) for person in admitted]
