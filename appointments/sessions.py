"""What the meetings app may ask of an appointment: the moves of its session, each with the few facts it needs.

Meetings sit above appointments (docs/layout.md, "Layers"): their pages and their journey read the appointment's
status, and move it only through these, never through `appointment_update`'s whole PATCH vocabulary. Each goes
through `appointment_update`, so its rules, its history and its events are the API's.
"""

from __future__ import annotations

from datetime import datetime

from appointments.models import Appointment, Status
from appointments.services import appointment_claimant_cancel, appointment_claimant_reschedule, appointment_update
from config.actors import Actor


def appointment_claimant_arrived(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The claimant came to the waiting room: `scheduled -> waiting`."""
    return appointment_update(appointment=appointment, data={"status": Status.WAITING}, actor=actor)


def appointment_claimant_left(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The claimant waiting left before the start: `waiting -> scheduled`."""
    return appointment_update(appointment=appointment, data={"status": Status.SCHEDULED}, actor=actor)


def appointment_session_start(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The agent starts the session (`in_progress`), admitting the claimant waiting."""
    return appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=actor)


def appointment_session_extend(*, appointment: Appointment, minutes: int, actor: Actor) -> Appointment:
    """The agent extends the session to `minutes` in all (the length, not an increment: a second click is
    harmless)."""
    return appointment_update(appointment=appointment, data={"duration_in_minutes": minutes}, actor=actor)


def appointment_session_end(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The agent ends the session: `completed`."""
    return appointment_update(appointment=appointment, data={"status": Status.COMPLETED}, actor=actor)


def appointment_claimant_chose_language(*, appointment: Appointment, language: str, actor: Actor) -> Appointment:
    """The claimant chose the language of their page (issue 22.1): kept as their `preferred_language`, so every
    later message is in it too."""
    return appointment_update(appointment=appointment, data={"claimant": {"preferred_language": language}}, actor=actor)


def appointment_claimant_move(
    *, appointment: Appointment, start: datetime, agent_id: int | None, actor: Actor
) -> Appointment:
    """The claimant moves their appointment to a time they were offered (issue 23.2): the department's rules for them
    first (appointments.services.claimant_change), then the change as any other."""
    return appointment_claimant_reschedule(appointment=appointment, start=start, agent_id=agent_id, actor=actor)


def appointment_claimant_cancelled(*, appointment: Appointment, reason: str | None, actor: Actor) -> Appointment:
    """The claimant cancels their appointment, within the department's notice to cancel (issue 23.2)."""
    return appointment_claimant_cancel(appointment=appointment, reason=reason, actor=actor)
