"""Reads of the meeting's participants for the back office's meeting pages (meetings.backoffice): the waiting
room's day, who waits to be let in, everyone with a link; and what appointments' pages show of meetings' rows,
provided through appointments' hook points (appointments/hooks.py) from MeetingsConfig.ready(): the claimants'
waits in the managers' week, the meeting's versions in the appointment's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, QuerySet

from appointments.hooks import Waits
from appointments.live import in_span_or_live_now
from appointments.models import Appointment
from appointments.selectors import history_columns
from claimants.models import Claimant
from config.actors import Actor
from config.prepared import Prepared, VisibleTo, from_row
from config.prepared import columns as columns_of
from meetings.browsers import participants_seen_by
from meetings.models import ADMITTED_ONE_BY_ONE, Meeting, Participant, Role


def appointments_of_the_day(
    appointments: QuerySet[Appointment], start: datetime, end: datetime, *, now: datetime
) -> list[Appointment]:
    """The waiting room's appointments from `start` to `end`, and any live `now` whatever its day
    (appointments.live.in_span_or_live_now), each with its participants whose links are live (oldest first), in two
    queries."""
    live = Participant.objects.filter(revoked_at__isnull=True).order_by("created_at")
    return list(
        in_span_or_live_now(appointments, start, end, now=now)
        .select_related("department", "claimant")
        .prefetch_related(Prefetch("participants", queryset=live))
        .order_by("appointment_at", "id")
    )


def participants_waiting_to_be_let_in(appointment: Appointment) -> QuerySet[Participant]:
    """The interpreters and guests in the appointment's waiting room whom nobody has let in yet, first come first."""
    return Participant.objects.filter(
        appointment=appointment,
        role__in=ADMITTED_ONE_BY_ONE,
        revoked_at__isnull=True,
        joined_waiting_at__isnull=False,
        left_at__isnull=True,
        admitted_at__isnull=True,
    ).order_by("joined_waiting_at")


def appointment_participants(appointment: Appointment) -> list[Participant]:
    """Everyone with a link to the appointment, with their user, oldest first, each knowing its appointment."""
    people = list(appointment.participants.select_related("user").order_by("created_at"))
    for person in people:
        person.appointment = appointment
    return people


def claimant_waits(appointments: QuerySet[Appointment]) -> Waits:
    """The claimants' waits in the waiting room (joined to admitted) over `appointments`, in one query."""
    waited = ExpressionWrapper(F("admitted_at") - F("joined_waiting_at"), output_field=DurationField())
    waits = Participant.objects.filter(
        appointment__in=appointments.values("pk"),
        role=Role.CLAIMANT,
        joined_waiting_at__isnull=False,
        admitted_at__isnull=False,
    ).aggregate(average=Avg(waited), recorded=Count("*"))
    return Waits(average=waits["average"], recorded=waits["recorded"])


def claimant_waits_by_agent(appointments: QuerySet[Appointment]) -> dict[Any, Waits]:
    """The claimants' waits over `appointments`, per the appointment's agent (None: nobody assigned), in one query."""
    waited = ExpressionWrapper(F("admitted_at") - F("joined_waiting_at"), output_field=DurationField())
    rows = (
        Participant.objects.filter(
            appointment__in=appointments.values("pk"),
            role=Role.CLAIMANT,
            joined_waiting_at__isnull=False,
            admitted_at__isnull=False,
        )
        .values("appointment__agent_id")
        .annotate(average=Avg(waited), recorded=Count("*"))
        .order_by()
    )
    return {row["appointment__agent_id"]: Waits(average=row["average"], recorded=row["recorded"]) for row in rows}


def meeting_history(appointment: Appointment) -> tuple[str, QuerySet[Any], list[str]]:
    """The meeting's versions, for the appointment's history page (appointments.hooks.history_sources)."""
    return "Meeting", Meeting.history.filter(appointment_id=appointment.pk), history_columns(Meeting)


# The claimant's status poll (issue 26.5): the participant of a live link with its appointment and this browser's
# lock-out, in one query compiled once (the ORM's compile of it cost more than the database's answer).
_LINK_COLUMNS = (*columns_of(Participant), *columns_of(Appointment, "appointment__"))
# Prepared by PostgreSQL once per connection too (on_server): its parse and plan cost five times its run. No order:
# the token is unique (the models' default orders made PostgreSQL sort the one row).
_LINK = Prepared(
    lambda token: (
        participants_seen_by(None)
        .filter(token=token, revoked_at__isnull=True)
        .order_by()
        .values_list(*_LINK_COLUMNS, "browser_locked_out")
    ),
    on_server=True,
)
_LINK_SEEN_BY = Prepared(
    lambda token, digest: (
        participants_seen_by(digest)
        .filter(token=token, revoked_at__isnull=True)
        .order_by()
        .values_list(*_LINK_COLUMNS, "browser_locked_out")
    ),
    on_server=True,
)


def participant_of_link(token: str, digest: str | None) -> Participant | None:
    """The live participant of this link with its appointment (as `select_related("appointment")` reads them) and
    `browser_locked_out` for the browser of this digest (meetings.browsers.participants_seen_by), or None."""
    rows = _LINK_SEEN_BY.rows(token, digest) if digest is not None else _LINK.rows(token)
    if not rows:
        return None
    participant, appointment = from_row(rows[0][:-1], [Participant, Appointment])
    participant.appointment = appointment
    participant.browser_locked_out = rows[0][-1]
    return participant


# An appointment's participants as the API lists them (meetings.shape), with what their names, links and checks read:
# the participant's own columns it shows, the appointment's recording setting, the claimant's name and date of birth,
# the agent's names; one statement with the caller's tenancy, compiled once (issue 26.2: the ORM's two queries and
# DRF cost 3.7 times the floor).
def _read(model: Any, prefix: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """These columns of `model` as paths through `prefix`, in the model's order (Model.from_db's, for the rest
    deferred)."""
    return tuple(prefix + name for name in columns_of(model) if name in names)


_FOR_SHAPE = {
    Appointment: _read(Appointment, "", ("id", "features_call_recording_enable")),
    Claimant: _read(Claimant, "claimant__", ("id", "name", "date_of_birth")),
    get_user_model(): _read(get_user_model(), "participants__user__", ("id", "first_name", "last_name", "username")),
}
# The participant's columns the answer reads (meetings.shape, its checks and its link); the others are deferred.
_PERSON = _read(
    Participant,
    "participants__",
    ("id", "role", "display_name", "token", "user_id", "joined_waiting_at", "admitted_at", "admitted_by_id", "left_at",
     "revoked_at", "identity_checked_at", "identity_failures", "identity_locked_at", "recording_consent",
     "recording_consent_at", "device_check", "device_checked_at"),
)  # fmt: skip
_PEOPLE = VisibleTo(
    Appointment,
    lambda appointments, pk: (
        appointments.filter(pk=pk)
        .order_by("participants__created_at", "participants__id")
        .values_list(*_FOR_SHAPE[Appointment], *_FOR_SHAPE[Claimant], *_PERSON, *_FOR_SHAPE[get_user_model()])
    ),
)


# The appointment a guest is invited to, with what the invitation checks and its answer shows (its status, recording
# setting and claimant), compiled once (issue 26.2); any other column is deferred.
_FOR_INVITING = _read(Appointment, "", ("id", "status", "features_call_recording_enable"))
_INVITED_TO = VisibleTo(
    Appointment,
    lambda appointments, pk: appointments.filter(pk=pk).values_list(*_FOR_INVITING, *_FOR_SHAPE[Claimant]),
)


def appointment_to_invite_to(viewer: Actor, pk: Any) -> Appointment | None:
    """The appointment `pk` with its status, recording setting and claimant (name, date of birth), if `viewer` may
    see it; else None."""
    rows = _INVITED_TO.rows(viewer, pk)
    if not rows:
        return None
    names = [path.rpartition("__")[2] for path in _FOR_SHAPE[Claimant]]
    appointment = Appointment.from_db(DEFAULT_DB_ALIAS, list(_FOR_INVITING), rows[0][: len(_FOR_INVITING)])
    appointment.claimant = Claimant.from_db(DEFAULT_DB_ALIAS, names, rows[0][len(_FOR_INVITING) :])
    return appointment


def participants_shown_to(viewer: Actor, pk: Any) -> list[Participant] | None:
    """The appointment's participants, oldest first, each with its appointment (its recording setting and claimant)
    and user loaded as meetings.shape reads them (any other column deferred), if `viewer` may see the appointment;
    else None."""
    rows = _PEOPLE.rows(viewer, pk)
    if not rows:
        return None
    User = get_user_model()
    loaded = {model: [path.rpartition("__")[2] for path in paths] for model, paths in _FOR_SHAPE.items()}
    loaded[Participant] = [path.rpartition("__")[2] for path in _PERSON]
    claimant_at = len(loaded[Appointment])
    person_at = claimant_at + len(loaded[Claimant])
    user_at = person_at + len(_PERSON)
    appointment = Appointment.from_db(DEFAULT_DB_ALIAS, loaded[Appointment], rows[0][:claimant_at])
    appointment.claimant = Claimant.from_db(DEFAULT_DB_ALIAS, loaded[Claimant], rows[0][claimant_at:person_at])
    people = []
    for row in rows:
        if row[person_at] is None:  # the appointment has no participant (the join found none)
            continue
        person = Participant.from_db(DEFAULT_DB_ALIAS, loaded[Participant], row[person_at:user_at])
        person.appointment = appointment
        if person.user_id is not None:
            person.user = User.from_db(DEFAULT_DB_ALIAS, loaded[User], row[user_at:])
        people.append(person)
    return people
