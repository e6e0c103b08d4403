"""What a worker does besides running tasks, every TASK_SWEEP_SECONDS (one worker at a time):

- a task left RUNNING whose lease has expired (no loop seen within TASK_LEASE_SECONDS names it) is made READY
  again, so it runs again: at least once, never lost. One that has lost its worker too often fails instead, with
  an ERROR (a task that kills its worker each time would otherwise take it down for ever);
- each app's sweeper enqueues again its work that is pending with no task to do it (a webhook delivery, a
  message, an event not fanned out): registered in its `AppConfig.ready()`, so this module knows none of them;
- work stuck longer than TASK_STUCK_AFTER_SECONDS (overdue, or running too long) is logged at ERROR once when it
  starts being stuck, and reported by the worker's /health/ready for as long as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from config.queue import READY, RUNNING
from worker.models import WorkerBeat

logger = logging.getLogger("worker")

# A task that has lost its worker this many times is failed rather than run again.
MOST_RUNS = 10
BEATS_KEPT = timedelta(days=1)
_SWEEP_LOCK = 0x5EE9  # PostgreSQL advisory lock: one worker sweeps at a time


@dataclass(frozen=True)
class Sweeper:
    """An app's pending work: `requeue()` enqueues again what has no task (returns how many), `stuck(cutoff)`
    counts what has been due since before `cutoff`."""

    name: str
    requeue: Callable[[], int]
    stuck: Callable[[datetime], int]


_sweepers: dict[str, Sweeper] = {}


def register(sweeper: Sweeper) -> None:
    _sweepers[sweeper.name] = sweeper


def leases_recover(now: datetime) -> int:
    """Make READY again every RUNNING task whose lease has expired; returns how many."""
    lease = now - timedelta(seconds=settings.TASK_LEASE_SECONDS)
    renewed = WorkerBeat.objects.filter(seen_at__gte=lease, task_id__isnull=False).values("task_id")
    expired = DBTaskResult.objects.filter(status=RUNNING, started_at__lt=lease).exclude(id__in=renewed)
    # Tasks a loop took together (worker.runner.Batched) share the start and the worker of the one its beat names.
    together = {(named.started_at, named.worker_ids[-1]) for named in DBTaskResult.objects.filter(id__in=renewed)}
    recovered = 0
    with transaction.atomic():
        for result in expired.select_for_update(skip_locked=True):
            if result.worker_ids and (result.started_at, result.worker_ids[-1]) in together:
                continue
            if len(result.worker_ids) >= MOST_RUNS:
                result.set_failed(LeaseExpired(f"lost its worker {len(result.worker_ids)} times"))
                logger.error("Task %s id=%s lost its worker %d times: failed", result.task_name, result.id,
                             len(result.worker_ids))  # fmt: skip
                continue
            DBTaskResult.objects.filter(pk=result.pk, status=RUNNING).update(status=READY)
            logger.warning("Task %s id=%s lost its worker (%s): run again", result.task_name, result.id,
                           (result.worker_ids or ["?"])[-1])  # fmt: skip
            recovered += 1
    return recovered


class LeaseExpired(Exception):
    """The task's worker stopped renewing its lease while running it (killed, or cut off from the database)."""


def stuck_report(now: datetime) -> dict[str, int]:
    """What is stuck now, by kind (only kinds with something stuck): each sweeper's, tasks overdue by more than
    the threshold, and tasks running longer than it."""
    cutoff = now - timedelta(seconds=settings.TASK_STUCK_AFTER_SECONDS)
    report = {name: sweeper.stuck(cutoff) for name, sweeper in _sweepers.items()}
    overdue = DBTaskResult.objects.filter(status=READY).filter(
        Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff)
    )
    for queue in settings.TASK_QUEUES:
        report[f"tasks overdue in queue {queue}"] = overdue.filter(queue_name=queue).count()
    report["tasks running too long"] = DBTaskResult.objects.filter(status=RUNNING, started_at__lt=cutoff).count()
    return {name: count for name, count in report.items() if count}


def describe(report: dict[str, int]) -> str:
    return ", ".join(f"{name}: {count}" for name, count in report.items())


class _Alert:
    """Whether this process has reported work stuck: an ERROR when it starts, a line when it is over."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stuck = False

    def update(self, report: dict[str, int]) -> None:
        with self.lock:
            was, self.stuck = self.stuck, bool(report)
        if report and not was:
            logger.error("Work is stuck (more than %d s overdue): %s", settings.TASK_STUCK_AFTER_SECONDS,
                         describe(report))  # fmt: skip
        elif was and not report:
            logger.info("Nothing is stuck any more")


alert = _Alert()


def _take_sweep_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: one writer at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SWEEP_LOCK])
        return bool(cursor.fetchone()[0])


def sweep() -> dict[str, int] | None:
    """One sweep (see the module's docstring); returns what was done, or None when another worker is sweeping."""
    now = timezone.now()
    with transaction.atomic():
        if not _take_sweep_lock():
            return None
        done = {"tasks run again": leases_recover(now)}
        for name, sweeper in _sweepers.items():
            done[f"{name} enqueued again"] = sweeper.requeue()
        WorkerBeat.objects.filter(seen_at__lt=now - BEATS_KEPT).delete()
    alert.update(stuck_report(now))
    done = {name: count for name, count in done.items() if count}
    if done:
        logger.info("Sweep: %s", describe(done))
    return done
