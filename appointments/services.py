"""Business rules for appointments, shared by the API, the admin and the management commands.

Each service runs in one transaction, locks the appointment row first (so writes to one appointment are
serialised and a concurrent change is never lost), checks every rule and collects all errors under the dot
paths of the request fields, and only when there are none writes exactly the columns that change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from copy import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from appointments.local_time import local_label, local_span
from appointments.models import (
    FEATURE_FIELDS,
    FINAL_STATUSES,
    MAX_DURATION,
    MISSED_REASON,
    RESCHEDULABLE_STATUSES,
    WRITABLE_FIELDS,
    Appointment,
    Department,
    Outcome,
    Status,
    api_name,
)
from appointments.representation import data_items_array, items_in_row, representation
from claimants.models import Claimant, ClaimantData, ClaimantDataField
from claimants.services import (
    ClaimantPlan,
    DepartmentMove,
    Errors,
    claimant_apply,
    claimant_create,
    claimant_data_apply_move,
    claimant_data_plan_move,
    claimant_plan_create,
    claimant_plan_update,
    merge_errors,
)
from config.history import insert_with_history, update_with_history
from config.prepared import Prepared, VisibleTo, columns, from_row
from config.transactions import block
from events.models import EventType
from events.services import appointment_change_events, events_record, participant_event
from meetings.models import Meeting, Participant
from meetings.services import (
    claimant_appeared_at,
    claimant_in_waiting_room,
    join_window,
    meeting_follow_appointment,
    meeting_for,
    participants_admit,
    participants_follow_agent,
    participants_follow_appointment,
    participants_for_new_appointment,
)

# The writable columns with a rule of their own, each planned by its own step below (status and its reason, the
# schedule, the interpreter, the department, the agent); every other writable column is set as given.
RULED_FIELDS = frozenset(
    {
        "appointment_at",
        "duration_in_minutes",
        "department",
        "is_interpreter_needed",
        "interpreter_language",
        "status",
        "cancellation_reason",
        "agent",
    }
)
# Columns a client sets as given: derived from the one declaration (a column added there is written here too).
OPTION_FIELDS = tuple(api_name(name) for name in WRITABLE_FIELDS if name not in RULED_FIELDS)
REFERENCE_DIGITS = 9

Precondition = Callable[[Appointment], None]
# What a check returns: the columns it would write and the errors it found, keyed by request field.
Planned = tuple[dict[str, Any], Errors]


def _label(name: str) -> str:
    return name.replace("_", " ")


def _status_label(status: str) -> str:
    return status.replace("_", " ")


def draw_reference() -> str:
    """A random 9-digit numeric reference; the unique constraint says whether it is free (appointment_create
    draws again when it is not)."""
    return str(10 ** (REFERENCE_DIGITS - 1) + secrets.randbelow(9 * 10 ** (REFERENCE_DIGITS - 1)))


def status_refusal(appointment: Appointment, target: str, now: datetime) -> str | None:
    """Why the appointment (as it will be after the change) cannot take `target` at `now`, or None. The lifecycle
    says which changes exist; this says when (issue 17.5): a no-show only once the claimant is late by the grace
    (NO_SHOW_GRACE_MINUTES, or the end of a shorter appointment) and never when the claimant came to the waiting
    room inside the join window (issue 17.2), a session only inside the join window, `waiting` only while the
    claimant is in the waiting room. One rule for every door: the API, the back office, the
    claimant's page, the commands and the worker. Its times are the department's, labelled (issue 17.10)."""
    zone = appointment.zone
    if target == Status.NO_SHOW:
        after_grace = appointment.appointment_at + timedelta(minutes=settings.NO_SHOW_GRACE_MINUTES)
        allowed_from = min(after_grace, appointment.ends_at)
        if now < allowed_from:
            why = (
                f"{settings.NO_SHOW_GRACE_MINUTES} minutes after the start"
                if after_grace <= appointment.ends_at
                else "the end of the appointment"
            )
            return f"A no-show can be recorded only from {local_label(allowed_from, zone)}, {why}."
        joined = claimant_appeared_at(appointment, join_window(appointment))
        if joined is not None:  # they came: whatever happened next, it is not theirs to answer for (issue 17.2)
            return (
                f"The claimant joined the waiting room at {local_label(joined, zone)}, so this is not a no-show; "
                "cancel the appointment instead if it cannot go ahead."
            )
    elif target == Status.IN_PROGRESS:
        window = join_window(appointment)
        if not window.is_open(now):
            span = local_span(window.opens_at, window.closes_at, zone)
            return f"The session can start only inside the join window, {span}."
    elif target == Status.WAITING and not claimant_in_waiting_room(appointment):
        return "The appointment can be waiting only while the claimant is in the waiting room."
    return None


def _plan_status(appointment: Appointment, data: Mapping[str, Any], now: datetime) -> Planned:
    changes: dict[str, Any] = {}
    target = data.get("status")
    reason = data.get("cancellation_reason")
    reason = reason.strip() or None if isinstance(reason, str) else reason
    if target is not None and target != appointment.status:
        if not appointment.can_transition_to(target):
            message = f"The status cannot change from {_status_label(appointment.status)} to {_status_label(target)}."
            return {}, {"status": [message]}
        changes["status"] = target
        if target == Status.IN_PROGRESS:
            changes["session_started_at"] = now
        elif target == Status.COMPLETED:
            changes["session_ended_at"] = now
        elif target == Status.CANCELLED:
            changes["cancelled_at"] = now
            changes["cancellation_reason"] = reason
    giving_reason = "cancellation_reason" in data and changes.get("status") != Status.CANCELLED
    if giving_reason and reason != appointment.cancellation_reason:
        return changes, {
            "cancellation_reason": ["The cancellation reason can only be given when the appointment is cancelled."]
        }
    return changes, {}


def _plan_schedule(appointment: Appointment, data: Mapping[str, Any], now: datetime) -> Planned:
    changes: dict[str, Any] = {}
    errors: Errors = {}
    for name in ("appointment_at", "duration_in_minutes"):
        if name in data and data[name] is not None and data[name] != getattr(appointment, name):
            if name == "duration_in_minutes" and appointment.status == Status.IN_PROGRESS:
                # A call that runs over is extended, never cut short: ending it is `completed` (issue 17.3).
                if data[name] < appointment.duration_in_minutes:
                    errors[name] = [
                        "While the session is in progress the duration in minutes can only be extended; "
                        "end the session to finish it."
                    ]
                else:
                    changes[name] = data[name]
            elif appointment.status not in RESCHEDULABLE_STATUSES:
                errors[name] = [
                    f"The {_label(name)} can change only while the appointment is scheduled or waiting"
                    + (" (or, to extend it, in progress)." if name == "duration_in_minutes" else ".")
                ]
            elif name == "appointment_at" and data[name] < now:
                errors[name] = ["The appointment at field must be a date after now."]
            else:
                changes[name] = data[name]
    if changes and not errors:
        start = changes.get("appointment_at", appointment.appointment_at)
        duration = changes.get("duration_in_minutes", appointment.duration_in_minutes)
        try:
            start + timedelta(minutes=duration + settings.JOIN_GRACE_MINUTES)
        except OverflowError:  # the meeting (and its join window) must end inside the calendar
            return {}, {"appointment_at": ["The appointment at field must be a date before 9999-12-31."]}
    return changes, errors


def _plan_options(appointment: Appointment, data: Mapping[str, Any], now: datetime) -> Planned:
    changes = {name: data[name] for name in OPTION_FIELDS if name in data and data[name] != getattr(appointment, name)}
    errors: Errors = {}

    def after(name: str) -> Any:
        return changes.get(name, getattr(appointment, name))

    # The interpreter rule is about the state after the change: null counts as false (the original's
    # body allows `is_interpreter_needed: null`), and without an interpreter no language is kept.
    needed = (
        bool(data["is_interpreter_needed"]) if "is_interpreter_needed" in data else appointment.is_interpreter_needed
    )
    language = data.get("interpreter_language", appointment.interpreter_language)
    language = (language or "").strip() or None
    if not needed:
        language = None
    elif language is None:
        errors["interpreter_language"] = ["The interpreter language field is required when an interpreter is needed."]
    for name, value in (("is_interpreter_needed", needed), ("interpreter_language", language)):
        if value != getattr(appointment, name):
            changes[name] = value

    if after("use_custom_post_call_redirect") and not (
        after("custom_user_post_call_redirect_url") or after("custom_agent_post_call_redirect_url")
    ):
        errors["use_custom_post_call_redirect"] = [
            "A custom post call redirect needs a custom user or agent post call redirect URL."
        ]
    return changes, errors


def _plan_fields(appointment: Appointment, data: Mapping[str, Any], now: datetime) -> Planned:
    """The appointment's own columns: status (with its stamps), schedule and options. The status's time rules
    read the appointment as the change leaves it (a reschedule in the same request counts)."""
    changes: dict[str, Any] = {}
    errors: list[Errors] = []
    for plan in (_plan_status, _plan_schedule, _plan_options):
        planned, found = plan(appointment, data, now)
        changes |= planned
        errors.append(found)
    if "status" in changes:
        after = copy(appointment)
        after.appointment_at = changes.get("appointment_at", appointment.appointment_at)
        after.duration_in_minutes = changes.get("duration_in_minutes", appointment.duration_in_minutes)
        refusal = status_refusal(after, changes["status"], now)
        if refusal is not None:
            errors.append({"status": [refusal]})
    return changes, merge_errors(*errors)


LIVE_STATUSES = (Status.SCHEDULED, Status.WAITING, Status.IN_PROGRESS)
AGENT_OVERLAP_CONSTRAINT = "appointment_agent_no_overlap"


def _plan_agent(appointment: Appointment, data: Mapping[str, Any], department: Department, planned: Planned) -> Planned:
    """Who runs the appointment: a staff member of its (new) department, whose live appointments never overlap.
    `planned` is what the rest of the change does (its time, duration and status are checked as they will be)."""
    changes: dict[str, Any] = {}
    agent_id = appointment.agent_id

    def members() -> Any:  # built only when asked (building the queryset alone costs a fifth of a millisecond)
        return get_user_model().objects.filter(is_active=True, is_staff=True, departments=department)

    if "agent_id" in data:
        wanted = data["agent_id"]
        if wanted is None:
            if agent_id is not None:
                changes["agent"] = None
            return changes, {}
        agent = (
            members().filter(pk=wanted).first() if isinstance(wanted, int) and not isinstance(wanted, bool) else None
        )
        if agent is None:
            return {}, {"agent_id": ["The selected agent id is invalid."]}
        if agent.pk != agent_id:
            changes["agent"] = agent
        agent_id = agent.pk
    elif (
        agent_id is not None
        and department.pk != appointment.department_id
        and not members().filter(pk=agent_id).exists()
    ):
        return {}, {"agent_id": ["The agent is not a member of the selected department."]}
    moved = {"appointment_at", "duration_in_minutes"} & planned[0].keys()
    status = planned[0].get("status", appointment.status)
    if agent_id is None or status not in LIVE_STATUSES or not (changes or moved):
        return changes, {}
    start = planned[0].get("appointment_at", appointment.appointment_at)
    end = start + timedelta(minutes=planned[0].get("duration_in_minutes", appointment.duration_in_minutes))
    clash = agent_clash(agent_id=agent_id, start=start, end=end, exclude=appointment.pk)
    return (changes, {"agent_id": [clash_message(clash, ZoneInfo(department.time_zone))]}) if clash else (changes, {})


def agent_clash(*, agent_id: Any, start: datetime, end: datetime, exclude: Any = None) -> Appointment | None:
    """The agent's live appointment that overlaps [start, end), if any (durations are bounded, so one indexed
    range read finds every candidate)."""
    candidates = Appointment.objects.filter(
        agent_id=agent_id,
        status__in=LIVE_STATUSES,
        appointment_at__lt=end,
        appointment_at__gt=start - timedelta(minutes=MAX_DURATION),
    ).exclude(pk=exclude)
    for other in candidates.order_by("appointment_at").only("pk", "reference", "appointment_at", "duration_in_minutes"):
        if other.appointment_at + timedelta(minutes=other.duration_in_minutes) > start:
            return other
    return None


def clash_message(other: Appointment, zone: ZoneInfo) -> str:
    """The clash, in the zone of the appointment being booked or changed (the one its author is reading): the API
    and the back office give the same text."""
    span = local_span(other.appointment_at, other.ends_at, zone)
    return f"The agent already has appointment {other.reference}, {span}, which overlaps this one."


def _plan_department(
    appointment: Appointment, department_id: Any, claimant_plan: ClaimantPlan, actor: Any
) -> tuple[Department | None, DepartmentMove]:
    """The department an appointment moves to (None: it stays), and how its claimant's data follows."""
    if department_id is None or department_id == appointment.department_id:
        return None, DepartmentMove()
    department = Department.objects.visible_to(actor).filter(pk=department_id).first()
    if department is None:
        return None, DepartmentMove(errors={"department_id": ["The selected department id is invalid."]})
    move = claimant_data_plan_move(claimant=appointment.claimant, department_id=department.pk, plan=claimant_plan)
    if Appointment.objects.filter(department=department, reference=appointment.reference).exists():
        move.errors = merge_errors(
            {"department_id": ["The reference of this appointment is already taken in the selected department."]},
            move.errors,
        )
    return department, move


# The request field a planned column answers to, for errors about it.
_REQUEST_FIELD = {"department": "department_id", "agent": "agent_id"}


def _final_errors(appointment: Appointment, changes: Mapping[str, Any], claimant_plan: ClaimantPlan) -> Errors:
    """Once completed, cancelled or a no-show, nothing changes: one error for each field a request would change."""
    if appointment.status not in FINAL_STATUSES or not (changes or claimant_plan):
        return {}
    message = f"The appointment is {_status_label(appointment.status)} and can no longer be changed."
    names = [_REQUEST_FIELD.get(name, name) for name in changes]
    names += [f"claimant.{name}" for name in claimant_plan.fields]
    names += ["claimant.data"] if claimant_plan.items else []
    return {name: [message] for name in names}


def _save(appointment: Appointment, changes: Mapping[str, Any], actor: Any) -> None:
    """Write only the changed columns (a concurrent change to another column is never overwritten)."""
    if not changes:
        return
    for name, value in changes.items():
        setattr(appointment, name, value)
    # The department, when it changes, was checked against the actor's; re-reading it proves nothing.
    appointment.full_clean(exclude=["department", "agent"], validate_unique=False, validate_constraints=False)
    appointment.updated_at = timezone.now()
    try:
        # No savepoint: when the agent's no-overlap constraint refuses the row (a concurrent assignment), the
        # error ends the change and the service's own block rolls it back.
        update_with_history([appointment], [*changes, "updated_at"], actor)
    except (IntegrityError, OperationalError) as exc:
        _raise_if_agent_overlap(exc)
        raise


def appointment_update(
    *,
    appointment: Appointment,
    data: Mapping[str, Any],
    actor: Any,
    precondition: Precondition | None = None,
    viewer: Any = None,
) -> Appointment:
    """Apply a partial change (the PATCH body's fields, already shaped) to an appointment.

    `data` holds only the fields to change; `claimant` is a mapping of claimant fields. Rules: the status
    lifecycle with server-stamped times; nothing changes once final; reschedules only while scheduled or
    waiting, the meeting following; the interpreter and redirect rules; the department must be one the actor
    may use. Raises ValidationError keyed by dot paths and writes nothing when any rule fails.
    `precondition` runs on the locked row before anything is written (the API's If-Match check). Only the
    appointment's pk is read: the row is read again under its lock, and only among those `viewer` may see when
    given (the API's tenancy; Appointment.DoesNotExist otherwise). The returned instance is the locked row as
    written, with `recorded_representation` set when something changed.
    """
    with block():
        return _change(_lock(appointment.pk, viewer), data, actor, precondition)


_PARTS = ((Appointment, ""), (Department, "department__"), (Claimant, "claimant__"), (Meeting, "meeting__"))
_LOCKED_COLUMNS = [column for model, prefix in _PARTS for column in columns(model, prefix)]
_ITEM_COLUMNS = [*columns(ClaimantData), *columns(ClaimantDataField, "field__")]


def _locked_rows(appointments: QuerySet[Appointment]) -> Any:
    """The lock's rows: the appointment with its department, claimant and meeting, and on PostgreSQL the
    claimant's data items with their fields as a JSON array in the same row (SQLite reads them in one more)."""
    locked = appointments.select_for_update(of=("self",))
    if not items_in_row():
        return locked.values_list(*_LOCKED_COLUMNS)
    items = data_items_array({column: column for column in _ITEM_COLUMNS})
    return locked.annotate(data_items=items).values_list(*_LOCKED_COLUMNS, "data_items")


# The lock, compiled once (config.prepared) over any appointment and over a member's.
_LOCK = VisibleTo(Appointment, lambda appointments, pk: _locked_rows(appointments.filter(pk=pk)))
_ITEMS = Prepared(
    lambda claimant_id: (
        ClaimantData.objects.filter(claimant_id=claimant_id).order_by_field().values_list(*_ITEM_COLUMNS)
    )
)


def _item_from_json(item: Mapping[str, Any]) -> ClaimantData:
    """A data item with its field from the lock's JSON array, its values as the fields read them."""
    values = []
    for model, prefix in ((ClaimantData, ""), (ClaimantDataField, "field__")):
        values += [field.to_python(item[prefix + field.attname]) for field in model._meta.concrete_fields]
    data_item, data_item.field = from_row(values, [ClaimantData, ClaimantDataField])
    return data_item


def _lock(pk: Any, viewer: Any = None) -> Appointment:
    """The appointment's row under a lock (among those `viewer` may see, when given), with what the rules and the
    representation read: its department, claimant and meeting, and the claimant's data items with their fields
    (as `with_related()` gives them), in one statement on PostgreSQL. Appointment.DoesNotExist when not found."""
    rows = _LOCK.rows(viewer, pk)
    if not rows:
        raise Appointment.DoesNotExist
    appointment, department, claimant, meeting = from_row(rows[0], [model for model, _prefix in _PARTS])
    appointment.department, appointment.claimant, appointment.meeting = department, claimant, meeting
    if len(rows[0]) > len(_LOCKED_COLUMNS):
        items = [_item_from_json(item) for item in rows[0][-1]]
    else:
        items = []
        for row in _ITEMS.rows(claimant.pk):
            item, item.field = from_row(row, [ClaimantData, ClaimantDataField])
            items.append(item)
    claimant.keep_data_items(items)
    return appointment


def _change(
    locked: Appointment,
    data: Mapping[str, Any],
    actor: Any,
    precondition: Precondition | None,
    now: datetime | None = None,
    outcome: str | None = None,
) -> Appointment:
    changes, errors = _plan_fields(locked, data, now or timezone.now())
    if outcome is not None and "status" in changes:
        changes["outcome"] = outcome  # decided by the service itself (appointment_mark_no_shows), never by a client
    claimant_plan = claimant_plan_update(claimant=locked.claimant, data=data.get("claimant") or {})
    department, move = _plan_department(locked, data.get("department_id"), claimant_plan, actor)
    if department is not None:
        changes["department"] = department
    agent_changes, agent_errors = _plan_agent(locked, data, department or locked.department, (changes, errors))
    changes |= agent_changes
    errors = merge_errors(errors, agent_errors)
    # A final appointment's error replaces any other about the same field: it is the one that matters.
    errors = merge_errors(errors, claimant_plan.errors, move.errors) | _final_errors(locked, changes, claimant_plan)
    if errors:
        raise ValidationError(errors)
    if precondition is not None:
        precondition(locked)
    before = {name: getattr(locked, name) for name in ("appointment_at", "duration_in_minutes", "status")}
    _save(locked, changes, actor)
    claimant_apply(claimant=locked.claimant, plan=claimant_plan, actor=actor)
    claimant_data_apply_move(claimant=locked.claimant, move=move, actor=actor)
    admitted = _follow(locked, changes, actor)
    fields = _changed_fields(changes, claimant_plan)
    if fields:
        # What was just written, from the row in memory: the events carry it and the API answers with it.
        locked.recorded_representation = representation(locked)
        events = appointment_change_events(before=before, after=locked, fields=fields)
        events += [participant_event(person, EventType.PARTICIPANT_ADMITTED) for person in admitted]
        events_record(appointment=locked, events=events, representation=locked.recorded_representation)
    return locked


def _changed_fields(changes: Mapping[str, Any], claimant_plan: ClaimantPlan) -> list[str]:
    """What an `appointment.updated` event names: the representation's fields, as the request names them."""
    names = [_REQUEST_FIELD.get(name, name) for name in changes]
    names += [f"claimant.{name}" for name in claimant_plan.fields]
    if claimant_plan.items or "department" in changes:
        names.append("claimant.data")
    return names


def _follow(appointment: Appointment, changes: Mapping[str, Any], actor: Any) -> list[Participant]:
    """What moves with an appointment's change: its meeting's times, and its participants (the claimant admitted
    when the session starts, returned for their `participant.admitted` event; the interpreter's link kept in
    step)."""
    admitted: list[Participant] = []
    if "appointment_at" in changes or "duration_in_minutes" in changes:
        meeting_follow_appointment(meeting=appointment.meeting, appointment=appointment, actor=actor)
    if changes.get("status") == Status.IN_PROGRESS:
        admitted = participants_admit(appointment=appointment, now=changes["session_started_at"], actor=actor)
    if {"is_interpreter_needed", "interpreter_language"} & changes.keys():
        participants_follow_appointment(appointment=appointment, actor=actor)
    if "agent" in changes:
        participants_follow_agent(appointment=appointment, actor=actor)
    return admitted


class _DrawnValueTaken(Exception):
    """A reference or meeting id drawn at random was taken already (rare): the create is tried again whole."""


DRAW_ATTEMPTS = 5


def appointment_create(
    *,
    department: Department,
    appointment_at: datetime,
    duration_in_minutes: int,
    claimant: Mapping[str, Any],
    actor: Any,
    reference: str | None = None,
    **options: Any,
) -> Appointment:
    """Create a scheduled appointment with its claimant, one data item per department field, and its meeting.

    `department` is one the actor may use, as its caller resolved it: `department_for_create` (the API) or the
    back office's list of the actor's departments (the commands act as the system). `options` are the writable
    representation fields (features, interpreter, redirects); `claimant["data"]` maps a field's name or id to
    its value. Raises ValidationError keyed by dot paths and writes nothing then. The returned instance has its
    `recorded_representation`.

    A generated reference and the meeting's id are drawn at random and inserted without checking first: should
    one be taken, the insert fails, the transaction (or the caller's savepoint) rolls back and the whole create
    runs again with new draws, so a create costs no check and no savepoint of its own.
    """
    for _attempt in range(DRAW_ATTEMPTS):
        try:
            with transaction.atomic():
                return _create(department, appointment_at, duration_in_minutes, claimant, actor, reference, options)
        except _DrawnValueTaken:
            continue
    raise RuntimeError(f"could not draw a free reference and meeting id in {DRAW_ATTEMPTS} attempts")


def _create(
    department: Department,
    appointment_at: datetime,
    duration_in_minutes: int,
    claimant: Mapping[str, Any],
    actor: Any,
    reference: str | None,
    options: Mapping[str, Any],
) -> Appointment:
    errors: Errors = {}
    if reference is not None and Appointment.objects.filter(department=department, reference=reference).exists():
        errors["reference"] = ["The reference has already been taken."]
    # New appointments take the department's feature settings unless the request sets them.
    appointment = Appointment(
        department=department,
        reference=reference or draw_reference(),
        **{name: getattr(department, name) for name in FEATURE_FIELDS},
    )
    schedule = {"appointment_at": appointment_at, "duration_in_minutes": duration_in_minutes}
    changes, field_errors = _plan_fields(appointment, {**options, **schedule}, timezone.now())
    agent_changes, agent_errors = _plan_agent(appointment, options, department, (changes, field_errors))
    changes |= agent_changes
    draft = claimant_plan_create(department_id=department.pk, data=claimant)
    errors = merge_errors(errors, field_errors, agent_errors, draft.errors)
    if errors:
        raise ValidationError(errors)
    for name, value in changes.items():
        setattr(appointment, name, value)
    _insert(appointment, actor, drawn=reference is None)
    claimant_create(draft=draft, appointment=appointment, actor=actor)
    try:
        meeting_for(appointment=appointment, actor=actor)
    except IntegrityError:
        raise _DrawnValueTaken from None
    participants_for_new_appointment(appointment=appointment, actor=actor)
    appointment.recorded_representation = representation(appointment, items=draft.items)
    events: list[tuple[str, dict[str, Any]]] = [(EventType.APPOINTMENT_CREATED, {})]
    events_record(appointment=appointment, events=events, representation=appointment.recorded_representation)
    return appointment


def _insert(appointment: Appointment, actor: Any, *, drawn: bool) -> None:
    """Insert the new row. No savepoint: a failure spoils the transaction, which appointment_create's block rolls
    back (the whole create, or to the caller's savepoint) before anything else runs in it."""
    appointment.full_clean(exclude=["department", "agent"], validate_unique=False, validate_constraints=False)
    try:
        insert_with_history([appointment], actor)
    except (IntegrityError, OperationalError) as exc:
        _raise_if_agent_overlap(exc)
        if isinstance(exc, OperationalError):
            raise
        if drawn:
            raise _DrawnValueTaken from None
        # A concurrent create took the client's reference between the check and the insert.
        raise ValidationError({"reference": ["The reference has already been taken."]}) from None


def _raise_if_agent_overlap(exc: IntegrityError | OperationalError) -> None:
    """The no-overlap constraint refused the row: a violation names it; two transactions assigning one agent at
    once may instead each wait for the other's row while checking it, and PostgreSQL ends one of them as a
    deadlock (SQLSTATE 40P01, "while checking exclusion constraint"). Either way, the other change won."""
    deadlock = getattr(exc.__cause__, "sqlstate", None) == "40P01" and "exclusion constraint" in str(exc.__cause__)
    if AGENT_OVERLAP_CONSTRAINT in str(exc) or deadlock:
        message = "The agent already has another live appointment at this time (booked a moment ago)."
        raise ValidationError({"agent_id": [message]}) from None


def department_for_create(*, actor: Any, department_id: Any) -> Department:
    """The department a new appointment goes to: the one named, or the caller's only department."""
    if department_id is not None:
        named = _NAMED.rows(actor, department_id)
        if not named:
            raise ValidationError({"department_id": ["The selected department id is invalid."]})
        return from_row(named[0], [Department])[0]
    only = list(Department.objects.visible_to(actor)[:2])
    if len(only) == 1:
        return only[0]
    raise ValidationError(
        {"department_id": ["The department id field is required when the caller has more than one department."]}
        if only
        else {"department_id": ["The caller has no department to create appointments in."]}
    )


# A named department the actor may use, compiled once (config.prepared).
_NAMED = VisibleTo(Department, lambda departments, pk: departments.filter(pk=pk).values_list(*columns(Department)))


def appointment_cancel(*, appointment: Appointment, reason: str | None, actor: Any, viewer: Any = None) -> Appointment:
    """Cancel an appointment with an optional reason. Unlike a PATCH to `cancelled`, cancelling one that is
    already final (cancelled included) is refused, so a client learns its cancel did not happen now. `viewer` as
    for appointment_update."""
    with block():
        current = _lock(appointment.pk, viewer)
        if current.status in FINAL_STATUSES:
            raise ValidationError(
                {"status": [f"The appointment is {_status_label(current.status)} and cannot be cancelled."]}
            )
        return _change(current, {"status": Status.CANCELLED, "cancellation_reason": reason}, actor, None)


def appointment_mark_no_shows(
    *, now: datetime | None = None, appointment_id: Any = None
) -> list[tuple[Appointment, str]]:
    """Give each scheduled/waiting appointment whose meeting has ended without a session its outcome: `no_show` when
    the claimant never came, and missed by the organisation (`cancelled`, with MISSED_REASON and the `outcome`)
    when the claimant joined the waiting room inside the join window and nobody admitted them (issue 17.2).

    Whether they came is read from the claimant's participant, not from the status: a claimant whose page went
    silent was let go back to `scheduled` by the absence check, but they came. Each appointment changes in its own
    transaction under its row lock, so it is safe to run every minute beside the API: one that started meanwhile
    is skipped, not overwritten. Returns (appointment, old status). `appointment_id` limits it to one appointment
    (the task enqueued for the end of its meeting).
    """
    now = now or timezone.now()
    due = Appointment.objects.filter(
        status__in=RESCHEDULABLE_STATUSES, session_started_at__isnull=True, meeting__end_date__lt=now
    ).order_by("meeting__end_date")
    if appointment_id is not None:
        due = due.filter(pk=appointment_id)
    changed: list[tuple[Appointment, str]] = []
    for candidate in due.only("pk", "status"):
        try:
            with block():
                locked = _lock(candidate.pk)
                # The status rules read the same clock as the choice of what is due (a caller may pass its own).
                if claimant_appeared_at(locked, join_window(locked)) is None:
                    updated = _change(locked, {"status": Status.NO_SHOW}, None, _still_due(now), now)
                else:
                    missed = {"status": Status.CANCELLED, "cancellation_reason": MISSED_REASON}
                    updated = _change(locked, missed, None, _still_due(now), now, Outcome.MISSED_BY_ORGANISATION)
        except (ValidationError, _NoLongerDue):
            continue
        changed.append((updated, candidate.status))
    return changed


class _NoLongerDue(Exception):
    pass


def _still_due(now: datetime) -> Precondition:
    def check(locked: Appointment) -> None:
        # Re-read under the lock: a reschedule since the query may have moved the meeting into the future.
        # (A status changed meanwhile needs no check here: the transition to no_show already refuses it.)
        if locked.meeting.end_date >= now:
            raise _NoLongerDue

    return check


def appointment_follow_up(*, appointment: Appointment, actor: Any) -> Appointment:
    """Record that someone in the organisation followed a missed appointment up (called the claimant back, booked
    again): who and when, with history. The back office then no longer lists it under "Needs attention". The
    appointment is final and its representation unchanged, so no event is raised. Following up again keeps the
    first record."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.outcome is None:
            raise ValidationError({"outcome": ["Only an appointment missed by the organisation is followed up."]})
        if locked.followed_up_at is None:
            locked.followed_up_at = timezone.now()
            locked.followed_up_by = actor
            update_with_history([locked], ["followed_up_at", "followed_up_by"], actor)
        return locked
