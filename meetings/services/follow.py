"""What follows an appointment's creation and change, registered as appointments' followers (appointments/hooks.py)
from MeetingsConfig.ready(): they run inside the appointment's service transaction, under its row lock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appointments.hooks import Foreseen
from appointments.models import Appointment, Status
from appointments.services.planning import AGENT_FIELDS, INTERPRETER_FIELDS, SCHEDULE_FIELDS
from config.actors import Actor
from events.models import EventType
from events.services import Pending, participant_event
from meetings.services.meeting import meeting_follow_appointment, meeting_for, meeting_moved
from meetings.services.pages import in_waiting_room
from meetings.services.participants import (
    InterpreterStep,
    claimants_to_admit,
    interpreter_step,
    participants_admit,
    participants_follow_agent,
    participants_follow_appointment,
    participants_for_new_appointment,
)


def follow_create(*, appointment: Appointment, actor: Actor) -> None:
    """The new appointment's meeting (its id drawn at random, again while taken) and its participants."""
    meeting_for(appointment=appointment, actor=actor)
    participants_for_new_appointment(appointment=appointment, actor=actor)


def _moves_meeting(changes: Mapping[str, Any]) -> bool:
    return bool(set(SCHEDULE_FIELDS) & changes.keys())


def _starts_session(changes: Mapping[str, Any]) -> bool:
    return changes.get("status") == Status.IN_PROGRESS


def _moves_interpreter(changes: Mapping[str, Any]) -> bool:
    return bool(set(INTERPRETER_FIELDS) & changes.keys())


def follow_change(*, appointment: Appointment, changes: Mapping[str, Any], actor: Actor) -> list[Pending]:
    """What moves with an appointment's change: its meeting's times, and its participants (the claimant admitted
    when the session starts, with their `participant.admitted` event; the interpreter's link kept in step; the
    agent's following the assigned agent)."""
    admitted = []
    if _moves_meeting(changes):
        meeting_follow_appointment(meeting=appointment.meeting, appointment=appointment, actor=actor)
    if _starts_session(changes):
        admitted = participants_admit(appointment=appointment, now=changes["session_started_at"], actor=actor)
    if _moves_interpreter(changes):
        participants_follow_appointment(appointment=appointment, actor=actor)
    if set(AGENT_FIELDS) & changes.keys():
        participants_follow_agent(appointment=appointment, actor=actor)
    return [participant_event(person, EventType.PARTICIPANT_ADMITTED) for person in admitted]


def follow_foreseen(*, appointment: Appointment, changes: Mapping[str, Any]) -> Foreseen:
    """follow_change's dry run, from its decisions, reading only: the meeting moved in memory (the answer shows it),
    `participant.left` for an interpreter revoked in the waiting room (recorded by the revoke, before the change's
    events), `participant.admitted` for each claimant the session's start lets in, and a new interpreter's link.
    Following the agent raises nothing and gives no link (the agent joins from the back office)."""
    earlier: list[str] = []
    admitted: list[str] = []
    if _moves_meeting(changes):
        meeting_moved(meeting=appointment.meeting, appointment=appointment)
    if _starts_session(changes):
        admitted = [EventType.PARTICIPANT_ADMITTED for _person in claimants_to_admit(appointment)]
    step = None
    if _moves_interpreter(changes):
        step, live = interpreter_step(appointment)
        if step == InterpreterStep.REVOKE and live is not None and in_waiting_room(live):
            earlier.append(EventType.PARTICIPANT_LEFT)
    return Foreseen(earlier=tuple(earlier), later=tuple(admitted), join_links_renewed=step == InterpreterStep.INVITE)
