"""What the meetings app may ask of an appointment: the moves of its session, each with the few facts it needs.

Meetings sit above appointments (docs/layout.md, "Layers"): their pages and their journey read the appointment's
status, and move it only through these, never through `appointment_update`'s whole PATCH vocabulary. Each goes
through `appointment_update`, so its rules, its history and its events are the API's.
"""

from __future__ import annotations

from appointments.models import Appointment, Status
from appointments.services import appointment_update
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
