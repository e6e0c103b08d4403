"""The task worker (`manage.py db_worker`): django-tasks-db's queue, made safe to kill (issue 18.2).

django-tasks-db claims a task by marking it RUNNING and never looks at it again: a worker killed mid-task left it
RUNNING for ever. Here each queue is run by a loop in a thread of its own (a stalled kind of work cannot hold up
another), and a heart thread renews every loop's lease (`WorkerBeat`: seen now, running this task) every quarter
of TASK_LEASE_SECONDS, sweeps (worker/sweep.py: expired leases run again, pending work without a task enqueued
again, stuck work reported), and stops the process when a task runs past TASK_TIME_LIMIT_SECONDS.

A database outage is waited out: every thread retries with a growing pause, the process logs one ERROR line per
outage (config/outage.py), a task that the outage interrupted is left RUNNING and runs again when its lease has
expired, and the worker carries on when the database answers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from config.outage import DATABASE_UNAVAILABLE, outage
from config.queue import RUNNING, SUCCESSFUL
from config.writes import update_rows
from worker.health import serve
from worker.models import WorkerBeat
from worker.sweep import sweep

logger = logging.getLogger("worker")

EXIT_TIME_LIMIT = 70


class Backoff:
    """Pauses that grow from half a second to 15 s, with jitter, while the database does not answer."""

    def __init__(self) -> None:
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        return min(15.0, 0.5 * 2 ** (self.failures - 1)) * random.uniform(0.8, 1.2)  # noqa: S311 (not a secret)

    def reset(self) -> None:
        self.failures = 0


def database_lost(exc: BaseException) -> None:
    """One ERROR line per outage (for the whole process), and this thread's broken connection dropped."""
    if outage.begin():
        logger.error("The database does not answer (%s): the worker waits for it", type(exc).__name__, exc_info=exc)
    with contextlib.suppress(DatabaseError):
        connection.close()


class QueueLoop:
    """Takes the tasks of one queue, one at a time, as django-tasks-db's worker does (`SELECT ... FOR UPDATE SKIP
    LOCKED`, then RUNNING), and runs each; `current` is the task it runs now (its lease, renewed by the heart)."""

    def __init__(self, *, queue: str, backend: str, interval: float, stop: threading.Event) -> None:
        self.queue = queue
        self.backend = backend
        self.interval = interval
        self.stop = stop
        self.worker_id = f"{queue}-{get_random_string(24)}"[:64]
        self.current: str | None = None
        self.since: float | None = None
        self.thread = threading.Thread(target=self.run, name=f"queue {queue}", daemon=True)

    def run(self) -> None:
        pause = Backoff()
        try:
            while not self.stop.is_set():
                try:
                    ran = self.once()
                except DATABASE_UNAVAILABLE as exc:
                    database_lost(exc)
                    self.stop.wait(pause.next())
                    continue
                except Exception:  # a bug of ours or a task's bookkeeping: the task's lease runs it again
                    logger.exception("The worker's loop of queue %s failed; it carries on", self.queue)
                    self.stop.wait(pause.next())
                    continue
                pause.reset()
                if not ran:
                    self.stop.wait(self.interval)
        finally:
            with contextlib.suppress(DatabaseError):
                connection.close()

    def once(self) -> bool:
        """Take and run one task (or, of a kind run together, up to its batch's size); False when none was ready."""
        close_old_connections()  # a connection the database dropped while we slept is replaced, not used
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend, queue_name=self.queue)
        with exclusive_transaction(tasks.db):
            result = tasks.get_locked()
            if result is None:
                return False
            together = batched.get(result.task_path)
            results = [result]
            if together is not None and together.size() > 1:
                more = tasks.filter(task_path=result.task_path).exclude(pk=result.pk)
                results += list(more.select_for_update(skip_locked=True)[: together.size() - 1])
            claim(results, self.worker_id)
        # The heart's beat names the first; those claimed with it share its start and worker (worker/sweep.py).
        self.current, self.since = str(result.id), time.monotonic()
        try:
            if together is None:
                execute(result)
            else:
                execute_together(results, together)
        finally:
            self.current = self.since = None
        return True


@dataclass(frozen=True)
class Batched:
    """Tasks of one kind a loop takes up to `size()` at a time and runs with one call: `run` gets each task's
    arguments and returns each one's result, in order (for work that is cheaper done together: webhooks)."""

    size: Callable[[], int]
    run: Callable[[list[list[Any]]], list[Any]]


# By task path; registered by the app that owns the task, from its AppConfig.ready().
batched: dict[str, Batched] = {}


def register_batched(task_path: str, together: Batched) -> None:
    batched[task_path] = together


def claim(results: list[DBTaskResult], worker_id: str) -> None:
    """Mark these tasks RUNNING, as `DBTaskResult.claim` does, in one batch: one start time for all."""
    if len(results) == 1:
        results[0].claim(worker_id)
        return
    now = timezone.now()
    for result in results:
        result.status, result.started_at = RUNNING, now
        result.worker_ids = [*result.worker_ids, worker_id]
    update_rows(results, ["status", "started_at", "worker_ids"])


def execute_together(results: list[DBTaskResult], together: Batched) -> None:
    """Run claimed tasks with one call and record each one's result in one batch; as `execute`, a task the
    database failed under stays RUNNING (its lease runs it again). No line per task: one for them all."""
    try:
        values = together.run([list(result.task_result.args) for result in results])
    except DATABASE_UNAVAILABLE:
        raise
    except Exception as exc:
        for result in results:
            result.set_failed(exc)
        logger.exception("Tasks %s: %d failed together", results[0].task_name, len(results))
        return
    now = timezone.now()
    for result, value in zip(results, values, strict=True):
        result.status, result.finished_at, result.return_value = SUCCESSFUL, now, value
        result.exception_class_path = result.traceback = ""
    update_rows(results, ["status", "finished_at", "return_value", "exception_class_path", "traceback"])
    logger.info("Tasks %s: %d ran together", results[0].task_name, len(results))


def execute(result: DBTaskResult) -> None:
    """Run a claimed task and record how it ended, as django-tasks-db's `Worker.run_task` does, except that a
    task the database failed under is not recorded as failed: it stays RUNNING, and its lease runs it again."""
    task = result.task
    task_result = result.task_result
    sender = type(task.get_backend())
    try:
        task_started.send(sender=sender, task_result=task_result)
        if task.takes_context:
            value = task.call(TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs)
        else:
            value = task.call(*task_result.args, **task_result.kwargs)
        result.set_successful(value)
    except DATABASE_UNAVAILABLE:
        raise
    except Exception as exc:
        result.set_failed(exc)
    task_finished.send(sender=sender, task_result=result.task_result)


class Heart:
    """Renews the loops' leases, sweeps every TASK_SWEEP_SECONDS, and stops the process when a task has run past
    TASK_TIME_LIMIT_SECONDS."""

    def __init__(self, loops: list[QueueLoop]) -> None:
        self.loops = loops
        self.stop = threading.Event()
        self.started_at = timezone.now()
        self.process = f"{socket.gethostname()}:{os.getpid()}"[:200]
        self.interval = max(0.25, settings.TASK_LEASE_SECONDS / 4)
        self.thread = threading.Thread(target=self.run, name="heart", daemon=True)

    def run(self) -> None:
        pause = Backoff()
        swept = 0.0
        while True:
            wait = self.interval
            try:
                self.beat()
                self.watch()
                if time.monotonic() - swept >= settings.TASK_SWEEP_SECONDS:
                    sweep()
                    swept = time.monotonic()
                pause.reset()
            except DATABASE_UNAVAILABLE as exc:
                database_lost(exc)
                wait = pause.next()
            except Exception:
                logger.exception("The worker's sweep failed; it carries on")
            if self.stop.wait(wait):
                break
        with contextlib.suppress(*DATABASE_UNAVAILABLE):
            WorkerBeat.objects.filter(worker_id__in=[loop.worker_id for loop in self.loops]).delete()
        with contextlib.suppress(DatabaseError):
            connection.close()

    def beat(self) -> None:
        now = timezone.now()
        rows = [
            WorkerBeat(
                worker_id=loop.worker_id,
                queue_name=loop.queue,
                process=self.process,
                started_at=self.started_at,
                seen_at=now,
                task_id=loop.current,
            )
            for loop in self.loops
        ]
        WorkerBeat.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["worker_id"], update_fields=["seen_at", "task_id"]
        )

    def watch(self) -> None:
        limit = settings.TASK_TIME_LIMIT_SECONDS
        for loop in self.loops:
            since, current = loop.since, loop.current
            if since is not None and time.monotonic() - since > limit:
                logger.error("Task id=%s has run for more than %d s: the worker stops, and the task runs again",
                             current, limit)  # fmt: skip
                logging.shutdown()
                os._exit(EXIT_TIME_LIMIT)


def run(*, queues: list[str], backend: str, interval: float) -> None:
    """The worker, until SIGTERM/SIGINT (then each loop finishes its task; a second signal stops at once)."""
    stop = threading.Event()
    loops = [QueueLoop(queue=queue, backend=backend, interval=interval, stop=stop) for queue in queues]
    heart = Heart(loops)

    def shutdown(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            logger.warning("Received %s again: stopping now", signal.strsignal(signum))
            os._exit(1)
        logger.warning("Received %s: stopping once the tasks running now have finished", signal.strsignal(signum))
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(signum, shutdown)
    logger.info("Starting worker process=%s queues=%s", heart.process, ",".join(queues))
    heart.thread.start()
    for loop in loops:
        loop.thread.start()
    threads = [heart.thread, *(loop.thread for loop in loops)]
    server = serve(settings.WORKER_HEALTH_PORT, threads) if settings.WORKER_HEALTH_PORT else None
    while not stop.wait(1):
        pass
    for loop in loops:
        loop.thread.join()
    heart.stop.set()
    heart.thread.join(timeout=10)
    if server is not None:
        server.shutdown()
    logger.info("Worker stopped process=%s", heart.process)


def run_batch(*, queues: list[str], backend: str) -> None:
    """Run every ready task of these queues, one queue after another, then return (`db_worker --batch`)."""
    stop = threading.Event()
    for queue in queues:
        loop = QueueLoop(queue=queue, backend=backend, interval=0, stop=stop)
        while loop.once():
            pass
