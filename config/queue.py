"""The task queue, in one place: Django's Tasks API through its backport (on Django 6 only these imports change to
`django.tasks`), on the database backend, so a task enqueued inside a transaction exists exactly when the change
that enqueued it commits. Run by `manage.py db_worker`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django_tasks import TaskResult, task
from django_tasks.base import Task

__all__ = ["Task", "backoff", "enqueue_at", "task"]


def enqueue_at(job: Task[Any, Any], when: datetime | None, *args: Any, **kwargs: Any) -> TaskResult[Any]:
    """Enqueue `job` to run at `when` (now when None or past)."""
    if when is not None and when > timezone.now():
        return job.using(run_after=when).enqueue(*args, **kwargs)
    return job.enqueue(*args, **kwargs)


def backoff(seconds: float, jitter: float = 0.2) -> timedelta:
    """`seconds` give or take `jitter` of it, so retries of many failures do not arrive together."""
    return timedelta(seconds=seconds * (1 + random.uniform(-jitter, jitter)))  # noqa: S311 (not a secret)
