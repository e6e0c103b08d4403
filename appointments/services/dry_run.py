"""A change tried and not made (`?dry_run=true`, issue 20.4): the PATCH's and the cancel's own planning (the rules,
the If-Match precondition, what follows and the events), applied to the row in memory only, in a transaction that
writes nothing and is rolled back (config.transactions.read_only). What it answers is what the change would: the
representation it would answer with, the event types it would record, the messages they would lead to by channel
and whether a participant would get a new link; each found by the rule that decides it when the change is made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from appointments import hooks
from appointments.events import appointment_change_events
from appointments.models import Appointment
from appointments.representation import representation
from appointments.selectors import appointment_locked
from appointments.services.cancel import cancel_request
from appointments.services.shared import Precondition
from appointments.services.update import Change, plan_change, set_changes
from appointments.shape import AppointmentShown
from claimants.services import claimant_data_moved, claimant_set
from config.actors import Actor
from config.transactions import read_only
from events import handlers


@dataclass(frozen=True)
class DryRun:
    """What a change would do. `current` is the appointment as it is (its ETag is unchanged, and the answer's);
    `shown` as the change would leave it (the real call's `data`)."""

    current: AppointmentShown
    shown: AppointmentShown
    events: list[str] = field(default_factory=list)
    messages: dict[str, list[str]] = field(default_factory=dict)
    join_links_renewed: bool = False

    def summary(self) -> dict[str, Any]:
        """The answer's `dry_run` object."""
        return {"events": self.events, "messages": self.messages, "join_links_renewed": self.join_links_renewed}


def appointment_update_dry_run(
    *,
    appointment: Appointment,
    data: Mapping[str, Any],
    actor: Actor,
    precondition: Precondition | None = None,
    viewer: Actor = None,
) -> DryRun:
    """appointment_update tried: the same arguments, the same errors (ValidationError, the precondition's,
    Appointment.DoesNotExist), nothing written. The row is read without its lock: nothing is written to it."""
    with read_only():
        found = appointment_locked(appointment.pk, viewer, lock=False)
        current = representation(found)  # before the plan, which sets the claimant's item values in memory
        return _foreseen(current, plan_change(found, data, actor, precondition))


def appointment_cancel_dry_run(
    *, appointment: Appointment, reason: str | None, actor: Actor, viewer: Actor = None
) -> DryRun:
    """appointment_cancel tried, as appointment_update_dry_run."""
    with read_only():
        found = appointment_locked(appointment.pk, viewer, lock=False)
        current = representation(found)
        return _foreseen(current, plan_change(found, cancel_request(found, reason), actor, None))


def _foreseen(current: AppointmentShown, planned: Change) -> DryRun:
    """The planned change made in memory, as apply_change makes it before writing, and what it would cause."""
    found = planned.appointment
    set_changes(found, planned.changes)
    claimant_set(claimant=found.claimant, plan=planned.claimant)
    items = claimant_data_moved(claimant=found.claimant, move=planned.move)
    if items is not None:
        found.claimant.keep_data_items(items)
    followed = [foresee(appointment=found, changes=planned.changes) for foresee in hooks.change_foreseen]
    shown = representation(found)
    fields = planned.fields()
    if not fields or not settings.EVENTS_ENABLED:  # as events_record: nothing changed, or no events are kept
        return DryRun(current, shown)
    # In the order they would be recorded: what the followers record on their own (a revoke's), the change's, then
    # those the followers return.
    events = [event_type for follow in followed for event_type in follow.earlier]
    events += [
        event_type
        for event_type, _extra in appointment_change_events(before=planned.before, after=found, fields=fields)
    ]
    events += [event_type for follow in followed for event_type in follow.later]
    messages: dict[str, list[str]] = {}
    for event_type in events:
        for foresee in handlers.messages_foreseen:
            for channel, kind in foresee(event_type, shown, current):
                messages.setdefault(channel, []).append(kind)
    renewed = any(follow.join_links_renewed for follow in followed)
    return DryRun(current, shown, [str(event_type) for event_type in events], messages, renewed)
