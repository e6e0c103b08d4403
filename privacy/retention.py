"""Erasing what is past its department's retention period (issue 21.1): the daily task and `manage.py
purge_expired` both call `purge_expired`, which holds each appointment to appointments.retention's rule and skips
those on legal hold (the erasure refuses them too, under the appointment's lock)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from appointments.models import Appointment, Department
from appointments.retention import appointment_erase_after, past_retention
from config.queue import READY, enqueue_at, live_arguments, task
from privacy.erasure import OnHold, appointment_erase, hold_in_force
from privacy.models import Reason

logger = logging.getLogger("privacy")

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Due:
    appointment: Appointment
    erase_after: datetime
    held: bool


def due(now: datetime) -> list[Due]:
    """Every appointment past its period at `now`, department by department, oldest first; `held` when a legal hold
    keeps it."""
    found = []
    for department in Department.objects.order_by("name"):
        for appointment in past_retention(department, now):
            held = hold_in_force(appointment) is not None
            found.append(Due(appointment, appointment_erase_after(appointment), held))
    return found


def purge_expired(*, now: datetime | None = None, dry_run: bool = False) -> list[Due]:
    """Erase (unless `dry_run`) every appointment past its period and not on hold; what was due, held or not."""
    found = due(now or timezone.now())
    if dry_run:
        return found
    for item in found:
        if item.held:
            continue
        try:
            appointment_erase(appointment_id=item.appointment.pk, actor=None, reason=Reason.RETENTION)
        except OnHold:  # placed since `due` read it
            continue
    return found


@task(queue_name="default")
def retention_purge() -> dict[str, int]:
    """The daily run: erase what is past its period, then run again a day later."""
    now = timezone.now()
    found = purge_expired(now=now)
    enqueue_at(retention_purge, now + DAY)
    erased = sum(1 for item in found if not item.held)
    logger.info("Retention: %d appointments erased, %d kept on legal hold.", erased, len(found) - erased)
    return {"erased": erased, "held": len(found) - erased}


def retention_requeue() -> int:
    """The worker's sweep: a daily run is enqueued when none is waiting or running (the first start, a lost task)."""
    if live_arguments(retention_purge):
        return 0
    enqueue_at(retention_purge, None)
    return 1


def retention_stuck(cutoff: datetime) -> int:
    from django_tasks_db.models import DBTaskResult

    waiting: Any = DBTaskResult.objects.filter(task_path=retention_purge.module_path, status=READY)
    return int(waiting.filter(run_after__lt=cutoff).count())
