"""The task queue, in one place: Django's Tasks API through its backport (on Django 6 only these imports change to
`django.tasks`), on the database backend, so a task enqueued inside a transaction exists exactly when the change
that enqueued it commits. Run by `manage.py db_worker`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.signals import pre_save
from django.utils import timezone
from django_guid import clear_guid, get_guid, set_guid
from django_tasks import TaskResult, task
from django_tasks.base import Task
from django_tasks.signals import log_task_started, task_finished, task_started

__all__ = [
    "Task",
    "backoff",
    "enqueue_at",
    "enqueue_each_unless_due",
    "enqueue_unless_due",
    "live_arguments",
    "task",
    "task_row",
]

READY, RUNNING, SUCCESSFUL = "READY", "RUNNING", "SUCCESSFUL"


def enqueue_at(job: Task[Any, Any], when: datetime | None, *args: Any, **kwargs: Any) -> TaskResult[Any]:
    """Enqueue `job` to run at `when` (now when None or past)."""
    if when is not None and when > timezone.now():
        return job.using(run_after=when).enqueue(*args, **kwargs)
    return job.enqueue(*args, **kwargs)


def task_row(job: Task[Any, Any], *args: Any) -> Any:
    """The row `job.enqueue(*args)` writes (django-tasks-db's DBTaskResult, to run now), built and not saved: for
    the outbox, which inserts it with one statement built once (config.writes) where the library's create costs
    about three times that on every change (issue 26). The same columns and values: the arguments normalized as
    the library does, `run_after` as its pre_save handler sets it, the request's id beside them as
    `_store_request_id` stores it. Neither save()'s signals nor `task_enqueued` (a DEBUG line) are sent."""
    from django_tasks.utils import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    arguments = normalize_json({"args": list(args), "kwargs": {}})
    if request_id := get_guid():
        arguments[REQUEST_ID_KEY] = request_id
    return DBTaskResult(
        args_kwargs=arguments,
        priority=job.priority,
        task_path=job.module_path,
        queue_name=job.queue_name,
        run_after=job.run_after or get_date_max(),
        backend_name=job.backend,
    )


def enqueue_unless_due(job: Task[Any, Any], when: datetime | None, *args: Any) -> bool:
    """Enqueue `job(*args)` to run at `when`, unless a task of it with these arguments is already waiting to run
    by then; True when one was enqueued. For work that may be woken from several places (an attempt, a sweep):
    woken twice, it still runs once."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    by = when if when is not None and when > timezone.now() else timezone.now()
    waiting = DBTaskResult.objects.filter(task_path=job.module_path, status=READY, args_kwargs__args=list(args))
    if waiting.filter(Q(run_after=get_date_max()) | Q(run_after__lte=by)).exists():
        return False
    enqueue_at(job, when, *args)
    return True


def enqueue_each_unless_due(job: Task[Any, Any], wanted: dict[str, datetime | None]) -> int:
    """`enqueue_unless_due` for many tasks of a job that takes one argument (argument -> when): one query for the
    tasks already waiting, one insert for the others; returns how many were enqueued."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    if not wanted:
        return 0
    now = timezone.now()
    waiting = DBTaskResult.objects.filter(task_path=job.module_path, status=READY)
    waiting = waiting.filter(args_kwargs__args__0__in=list(wanted))
    covered = set()
    for stored, run_after in waiting.values_list("args_kwargs", "run_after"):
        argument = stored["args"][0]
        when = wanted.get(argument)
        by = when if when is not None and when > now else now
        if run_after == get_date_max() or run_after <= by:
            covered.add(argument)
    rows = []
    for argument, when in wanted.items():
        if argument in covered:
            continue
        row = task_row(job, argument)
        if when is not None and when > now:
            row.run_after = when
        rows.append(row)
    DBTaskResult.objects.bulk_create(rows)
    return len(rows)


def live_arguments(job: Task[Any, Any]) -> list[list[Any]]:
    """The arguments of every task of `job` that is waiting to run or running: work that has a task."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=job.module_path, status__in=(READY, RUNNING))
    return [list(stored.get("args", [])) for stored in rows.values_list("args_kwargs", flat=True)]


def backoff(seconds: float, jitter: float = 0.2) -> timedelta:
    """`seconds` give or take `jitter` of it, so retries of many failures do not arrive together."""
    return timedelta(seconds=seconds * (1 + random.uniform(-jitter, jitter)))  # noqa: S311 (not a secret)


# A task carries the id of the request (or task) that enqueued it, stored beside its arguments, and the worker takes
# that id while it runs the task: the worker's lines for a task show which request caused it. (The stored arguments
# are django-tasks-db's `args_kwargs`; it reads only its "args" and "kwargs" keys. tests/config/test_log_lines.py
# runs a real worker and fails if this stops working.)
REQUEST_ID_KEY = "request_id"


def _store_request_id(sender: Any, instance: Any, **kwargs: Any) -> None:
    request_id = get_guid()
    if request_id and instance._state.adding:
        instance.args_kwargs = {**instance.args_kwargs, REQUEST_ID_KEY: request_id}


def _take_request_id(sender: Any, task_result: Any, **kwargs: Any) -> None:
    stored = getattr(getattr(task_result, "db_result", None), "args_kwargs", None) or {}
    if stored.get(REQUEST_ID_KEY):
        set_guid(stored[REQUEST_ID_KEY])


def _drop_request_id(sender: Any, **kwargs: Any) -> None:
    clear_guid()


pre_save.connect(_store_request_id, sender="django_tasks_database.DBTaskResult")
# Before django-tasks' own "Task ... state=RUNNING" line (receivers run in the order they were connected), so that
# line carries the id too; the id is dropped after its "finished" line.
task_started.disconnect(log_task_started)
task_started.connect(_take_request_id)
task_started.connect(log_task_started)
task_finished.connect(_drop_request_id)
