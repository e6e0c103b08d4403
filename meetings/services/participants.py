"""The participants of an appointment and their links: those every appointment starts with, the agent and
the interpreter following the appointment, guests, revoking a link, admitting someone, and the order the
locks are taken in."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from appointments.models import FINAL_STATUSES, LIVE_STATUSES, Appointment, Status
from config.actors import Actor, staff_of
from config.history import insert_with_history, stamp, update_with_history
from events.models import EventType
from events.services import events_record, participant_event
from ledger.services import Happening, about, lock_appointment, record
from meetings.models import Participant, Role
from meetings.services.pages import admitted_one_by_one, in_waiting_room


def participants_for_new_appointment(*, appointment: Appointment, actor: Actor = None) -> list[Participant]:
    """The participants every appointment starts with: the agent, the claimant (whose link is the appointment's
    `url`) and, when one is needed, the interpreter."""
    people = [
        Participant(appointment=appointment, role=Role.AGENT, display_name="Agent", user_id=appointment.agent_id),
        # The claimant's name is read from the claimant (display_name), never copied here to go stale.
        Participant(
            appointment=appointment, role=Role.CLAIMANT, display_name="Claimant", token=appointment.public_token
        ),
    ]
    if appointment.is_interpreter_needed:
        people.append(_interpreter(appointment))
    insert_with_history(people, actor, reason=False)
    return people


def participants_follow_agent(*, appointment: Appointment, actor: Actor) -> None:
    """The agent's participant is the assigned agent (listed with the participants; the API's representation of
    the appointment itself is unchanged), with its history row saying who it now is (issue 19.3)."""
    moved = [
        participant
        for participant in Participant.objects.filter(appointment=appointment, role=Role.AGENT)
        if participant.user_id != appointment.agent_id
    ]
    for participant in moved:
        participant.user_id = appointment.agent_id
    update_with_history(moved, ["user"], actor)


def _interpreter(appointment: Appointment) -> Participant:
    language = appointment.interpreter_language or ""
    return Participant(appointment=appointment, role=Role.INTERPRETER, display_name=f"Interpreter ({language})".strip())


class InterpreterStep(StrEnum):
    """What keeping the interpreter in step with the appointment does."""

    INVITE = "invite"  # an interpreter is needed and has no live link: a new one
    RENAME = "rename"  # the language changed: the live link's name follows
    REVOKE = "revoke"  # no interpreter is needed any more: the live link is revoked


def interpreter_step(appointment: Appointment) -> tuple[InterpreterStep | None, Participant | None]:
    """The step keeping the interpreter's link in step with `is_interpreter_needed` (and their name with the
    language) takes, and the live link it acts on: participants_follow_appointment takes it, a dry run tells it."""
    live = Participant.objects.filter(appointment=appointment, role=Role.INTERPRETER, revoked_at__isnull=True).first()
    if appointment.is_interpreter_needed and live is None:
        return InterpreterStep.INVITE, None
    if appointment.is_interpreter_needed and live is not None:
        renamed = live.display_name != _interpreter(appointment).display_name
        return (InterpreterStep.RENAME if renamed else None), live
    return (InterpreterStep.REVOKE if live is not None else None), live


def participants_follow_appointment(*, appointment: Appointment, actor: Actor = None) -> None:
    """Keep the interpreter's link in step with `is_interpreter_needed` (and their name with the language)."""
    step, live = interpreter_step(appointment)
    if step == InterpreterStep.INVITE:
        interpreter = _interpreter(appointment)
        stamp(interpreter, actor)
        interpreter.save(force_insert=True)
        record(appointment, [_invited(interpreter)], actor=actor)
    elif step == InterpreterStep.RENAME and live is not None:
        live.display_name = _interpreter(appointment).display_name
        stamp(live, actor)
        live.save(update_fields=["display_name"])
    elif step == InterpreterStep.REVOKE and live is not None:
        participant_revoke(participant=live, actor=actor)


def participant_invite_guest(*, appointment: Appointment, display_name: str, actor: Actor) -> Participant:
    """A guest the agent invites (a third party: a relative, a lawyer), with a link of their own."""
    name = display_name.strip()
    if not name:
        raise ValidationError({"display_name": ["The display name field is required."]})
    if len(name) > 200:
        raise ValidationError({"display_name": ["The display name must not be longer than 200 characters."]})
    if appointment.status in FINAL_STATUSES:
        raise ValidationError({"appointment": ["Guests cannot be invited to an appointment that has ended."]})
    guest = Participant(appointment=appointment, role=Role.GUEST, display_name=name)
    with transaction.atomic():
        lock_appointment(appointment.pk)
        insert_with_history([guest], actor)  # its row and history row, statements built once (issue 26.2)
        record(appointment, [_invited(guest)], actor=actor)
    return guest


def _invited(participant: Participant) -> Happening:
    return Happening("participant.invited", about(participant), {"display_name": participant.display_name})


def participant_revoke(*, participant: Participant, actor: Actor) -> Participant:
    """Revoke a link at once: it answers 404 from now on (the open page learns it at its next poll). The row
    stays, with what its holder did; someone in the waiting room or the meeting has left it. Under the same locks as
    admitting, so a revoke and an Admit racing each other end revoked and never in the meeting."""
    with transaction.atomic():
        locked = lock_appointment_then(participant, "appointment")
        if locked.revoked_at is None:
            now = timezone.now()
            locked.revoked_at = now
            changed = ["revoked_at"]
            was_there = in_waiting_room(locked)
            if was_there:
                locked.left_at = now
                changed.append("left_at")
            stamp(locked, actor)
            locked.save(update_fields=changed)
            record(locked.appointment_id, [Happening("participant.revoked", about(locked))], actor=actor)
            if was_there:
                left = participant_event(locked, EventType.PARTICIPANT_LEFT)
                events_record(appointment=locked.appointment, events=[left], actor=actor)
    participant.revoked_at, participant.left_at = locked.revoked_at, locked.left_at
    return locked


def display_name(participant: Participant) -> str:
    """The name others see in the meeting: the claimant's own name, otherwise the participant's."""
    if participant.role == Role.CLAIMANT:
        return participant.appointment.claimant.name or ""
    if participant.role == Role.AGENT and participant.user_id is not None:
        return participant.user.get_full_name() or participant.user.get_username()  # type: ignore[union-attr]
    return participant.display_name


def participant_url(participant: Participant) -> str:
    """Where a participant joins: their own page, or for the agent the back office's meeting page."""
    if participant.role == Role.AGENT:
        page = _meeting_page(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
        return settings.PUBLIC_BASE_URL + page.replace(str(_ANY_APPOINTMENT), str(participant.appointment_id))
    return f"{settings.PUBLIC_BASE_URL}/join/{participant.token}"


_ANY_APPOINTMENT = uuid.UUID(int=0)


@functools.cache
def _meeting_page(urlconf: str, script_prefix: str) -> str:
    """The back office's meeting page of an appointment whose id is a placeholder, reversed once per URL
    configuration and prefix the site is served under (a participants' list names it for its agent: issue 26.2)."""
    return reverse("admin:appointments_appointment_meeting", urlconf=urlconf, args=[_ANY_APPOINTMENT])


def lock_appointment_then(participant: Participant, related: str) -> Participant:
    """Lock the appointment's row, then the participant's: the order appointment_update and the agent's start
    take them in, so a claimant joining while the agent starts waits instead of deadlocking."""
    lock_appointment(participant.appointment_id)
    return Participant.objects.select_for_update(of=("self",)).select_related(related).get(pk=participant.pk)


def claimants_to_admit(appointment: Appointment) -> QuerySet[Participant]:
    """Whom starting the session lets in: the claimant, on a live link, in the waiting room and not let in yet."""
    return Participant.objects.filter(
        appointment=appointment,
        role=Role.CLAIMANT,
        revoked_at__isnull=True,
        joined_waiting_at__isnull=False,
        left_at__isnull=True,
        admitted_at__isnull=True,
    )


def participants_admit(*, appointment: Appointment, now: datetime, actor: Actor) -> list[Participant]:
    """The agent started the session: the claimant, if in the waiting room, is let in (with history, and the
    caller records `participant.admitted`). An interpreter or a guest waiting is not: the agent admits each one
    (participant_admit), since their link may have been forwarded (issue 17.9)."""
    people = list(claimants_to_admit(appointment))
    admitter = staff_of(actor)
    for person in people:
        person.admitted_at, person.admitted_by = now, admitter
    update_with_history(people, ["admitted_at", "admitted_by"], actor, reason=False)
    return people


def participant_admit(*, participant: Participant, actor: Actor, now: datetime | None = None) -> Participant:
    """The agent lets an interpreter or a guest in from the waiting room (issue 17.9): into the meeting at once
    when the session is running, else as soon as it starts. Written as the claimant's admission is: `admitted_at`
    and `admitted_by` with history (the agent as its user) and a `participant.admitted` event.

    Under the appointment's lock, then the participant's (as joining, leaving and revoking take them): an Admit
    racing a revoke, a leave or other Admits admits once or not at all. Admitting someone already let in changes
    nothing and writes nothing. Refused (ValidationError) for the claimant or the agent, a revoked link, an
    appointment that has ended, and someone not in the waiting room (never came, left, or released as absent)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_appointment_then(participant, "appointment__claimant")
        appointment = locked.appointment
        name = display_name(locked)
        if not admitted_one_by_one(locked):
            raise ValidationError({"participant": ["The claimant is let in by starting the session."]})
        if locked.revoked_at is not None:
            raise ValidationError({"participant": [f"The link of {name} was revoked."]})
        if appointment.status not in LIVE_STATUSES:
            label = Status(appointment.status).label.lower()
            raise ValidationError({"participant": [f"The appointment is {label}: nobody can be admitted."]})
        if locked.admitted_at is not None:
            return locked
        if not in_waiting_room(locked):
            raise ValidationError({"participant": [f"{name} is not in the waiting room."]})
        locked.admitted_at, locked.admitted_by = now, staff_of(actor)
        stamp(locked, actor)
        locked.save(update_fields=["admitted_at", "admitted_by"])
        admitted = participant_event(locked, EventType.PARTICIPANT_ADMITTED)
        events_record(appointment=appointment, events=[admitted], actor=actor)
    return locked
