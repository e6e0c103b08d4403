"""The outcome of an appointment whose meeting ended without a session: a no-show, or missed by the
organisation (issue 17.2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments import hooks
from appointments.join_window import join_window
from appointments.models import (
    MISSED_REASON,
    RESCHEDULABLE_STATUSES,
    Appointment,
    Outcome,
    Status,
)
from appointments.selectors import appointment_locked
from appointments.services.shared import Precondition
from appointments.services.update import change
from config.transactions import block


def appointment_mark_no_shows(
    *, now: datetime | None = None, appointment_id: uuid.UUID | str | None = None
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
                locked = appointment_locked(candidate.pk)
                # The status rules read the same clock as the choice of what is due (a caller may pass its own).
                if hooks.claimant_appeared_at.get()(locked, join_window(locked)) is None:
                    updated = change(locked, {"status": Status.NO_SHOW}, None, _still_due(now), now)
                else:
                    missed = {"status": Status.CANCELLED, "cancellation_reason": MISSED_REASON}
                    updated = change(locked, missed, None, _still_due(now), now, Outcome.MISSED_BY_ORGANISATION)
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
