"""The rules of a change to an appointment, checked without writing: status (with its time rules), schedule,
options, department and agent. Each step returns the columns it would write and the errors it found, keyed by
request field, so one request's errors are reported together and nothing is written when any is found."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from copy import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from appointments import hooks
from appointments.join_window import join_window
from appointments.local_time import local_label, local_span
from appointments.models import (
    FINAL_STATUSES,
    RESCHEDULABLE_STATUSES,
    WRITABLE_FIELDS,
    Appointment,
    Department,
    Status,
    api_name,
)
from appointments.selectors import department_visible
from appointments.services.shared import (
    BUFFER_FIELDS,
    LIVE_STATUSES,
    REQUEST_FIELD,
    Planned,
    agent_clash,
    clash_message,
    label,
    status_label,
)
from appointments.slots import rules_of
from claimants.services import (
    ClaimantPlan,
    DepartmentMove,
    Errors,
    claimant_data_plan_move,
    merge_errors,
)
from config.actors import Actor

# The writable columns a step below plans by a rule of its own, each named once, by the step that plans it (and
# read through these names wherever the change follows them). RULED_FIELDS is their union, not a list of its own.
STATUS_FIELDS = ("status", "cancellation_reason")  # _plan_status: the lifecycle, its stamps and its reason
SCHEDULE_FIELDS = ("appointment_at", "duration_in_minutes")  # _plan_schedule
INTERPRETER_FIELDS = ("is_interpreter_needed", "interpreter_language")  # _plan_options' interpreter rule
DEPARTMENT_FIELDS = ("department",)  # plan_department: tenancy, the reference, the claimant's data following
AGENT_FIELDS = ("agent",)  # plan_agent: a member of the department, no overlap
RULED_FIELDS = frozenset((*STATUS_FIELDS, *SCHEDULE_FIELDS, *INTERPRETER_FIELDS, *DEPARTMENT_FIELDS, *AGENT_FIELDS))
# Columns a client sets as given: the declaration (WRITABLE_FIELDS) less the ruled ones, so a column added there is
# written as given unless a rule claims it.
OPTION_FIELDS = tuple(api_name(name) for name in WRITABLE_FIELDS if name not in RULED_FIELDS)


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
        joined = hooks.claimant_appeared_at.get()(appointment, join_window(appointment))
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
    elif target == Status.WAITING and not hooks.claimant_in_waiting_room.get()(appointment):
        return "The appointment can be waiting only while the claimant is in the waiting room."
    return None


def _plan_status(appointment: Appointment, data: Mapping[str, Any], now: datetime) -> Planned:
    changes: dict[str, Any] = {}
    target = data.get("status")
    reason = data.get("cancellation_reason")
    reason = reason.strip() or None if isinstance(reason, str) else reason
    if target is not None and target != appointment.status:
        if not appointment.can_transition_to(target):
            message = f"The status cannot change from {status_label(appointment.status)} to {status_label(target)}."
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
    for name in SCHEDULE_FIELDS:
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
                    f"The {label(name)} can change only while the appointment is scheduled or waiting"
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
    for name, value in zip(INTERPRETER_FIELDS, (needed, language), strict=True):
        if value != getattr(appointment, name):
            changes[name] = value

    if after("use_custom_post_call_redirect") and not (
        after("custom_user_post_call_redirect_url") or after("custom_agent_post_call_redirect_url")
    ):
        errors["use_custom_post_call_redirect"] = [
            "A custom post call redirect needs a custom user or agent post call redirect URL."
        ]
    return changes, errors


def plan_fields(appointment: Appointment, data: Mapping[str, Any], now: datetime) -> Planned:
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


def plan_agent(appointment: Appointment, data: Mapping[str, Any], department: Department, planned: Planned) -> Planned:
    """Who runs the appointment: a staff member of its (new) department, whose live appointments never overlap.
    `planned` is what the rest of the change does (its time, duration and status are checked as they will be)."""
    changes: dict[str, Any] = {}
    agent_id = appointment.agent_id

    # Built only when asked (building the queryset alone costs a fifth of a millisecond).
    def members() -> QuerySet[User]:
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
    moved = set(SCHEDULE_FIELDS) & planned[0].keys()
    status = planned[0].get("status", appointment.status)
    if agent_id is None or status not in LIVE_STATUSES or not (changes or moved):
        return changes, {}
    start = planned[0].get("appointment_at", appointment.appointment_at)
    end = start + timedelta(minutes=planned[0].get("duration_in_minutes", appointment.duration_in_minutes))
    # The agent's time is taken with the department's buffers as they are now (issue 23.3): kept on the row, which
    # the database's exclusion constraint reads.
    rules = rules_of(department)
    before, after = rules.buffer_before_minutes, rules.buffer_after_minutes
    changes |= {
        name: value
        for name, value in zip(BUFFER_FIELDS, (before, after), strict=True)
        if getattr(appointment, name) != value
    }
    clash = agent_clash(agent_id=agent_id, start=start, end=end, exclude=appointment.pk, before=before, after=after)
    if clash is None:
        return changes, {}
    return changes, {"agent_id": [clash_message(clash, ZoneInfo(department.time_zone), before, after)]}


def plan_department(
    appointment: Appointment, department_id: uuid.UUID | str | None, claimant_plan: ClaimantPlan, actor: Actor
) -> tuple[Department | None, DepartmentMove]:
    """The department an appointment moves to (None: it stays), and how its claimant's data follows."""
    if department_id is None or department_id == appointment.department_id:
        return None, DepartmentMove()
    department = department_visible(actor=actor, pk=department_id)
    if department is None:
        return None, DepartmentMove(errors={"department_id": ["The selected department id is invalid."]})
    move = claimant_data_plan_move(claimant=appointment.claimant, department_id=department.pk, plan=claimant_plan)
    if Appointment.objects.filter(department=department, reference=appointment.reference).exists():
        move.errors = merge_errors(
            {"department_id": ["The reference of this appointment is already taken in the selected department."]},
            move.errors,
        )
    return department, move


def final_errors(appointment: Appointment, changes: Mapping[str, Any], claimant_plan: ClaimantPlan) -> Errors:
    """Once completed, cancelled or a no-show, nothing changes: one error for each field a request would change."""
    if appointment.status not in FINAL_STATUSES or not (changes or claimant_plan):
        return {}
    message = f"The appointment is {status_label(appointment.status)} and can no longer be changed."
    names = [REQUEST_FIELD.get(name, name) for name in changes]
    names += [f"claimant.{name}" for name in claimant_plan.fields]
    names += ["claimant.data"] if claimant_plan.items else []
    return {name: [message] for name in names}
