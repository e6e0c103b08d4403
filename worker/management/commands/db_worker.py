"""`manage.py db_worker`: this project's worker in place of django-tasks-db's (worker/runner.py says why)."""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tasks_db.compat import TASKS_LOGGER

from config.startup import require_secret_key
from worker.runner import run, run_batch


class Command(BaseCommand):
    help = "Run the task worker: a thread per queue, leases that bring back a killed worker's tasks, a sweep."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--queue-name",
            default=",".join(settings.TASK_QUEUES),
            help="The queues to run, separated by commas, each in a thread of its own (default: all of them).",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds to wait when a queue is empty (default: 1)."
        )
        parser.add_argument("--backend", default="default", dest="backend_name")
        parser.add_argument("--batch", action="store_true", help="Run every ready task, then exit.")
        # django-tasks-db's worker sleeps up to a second at start unless told not to; this one never does.
        parser.add_argument("--no-startup-delay", action="store_true", help="Accepted for compatibility.")

    def execute(self, *args: Any, **options: Any) -> str | None:
        require_secret_key()  # the settings production needs, before anything runs (issue 18.16)
        return super().execute(*args, **options)

    def handle(
        self, *args: Any, queue_name: str, interval: float, backend_name: str, batch: bool, **options: Any
    ) -> None:
        queues = [name.strip() for name in queue_name.split(",") if name.strip()]
        unknown = sorted(set(queues) - set(settings.TASK_QUEUES))
        if unknown or not queues:
            raise CommandError(f"Unknown queue {', '.join(unknown)}; the queues are {', '.join(settings.TASK_QUEUES)}")
        if interval < 0:
            raise CommandError("--interval must be zero or more")
        level = logging.INFO if options["verbosity"] == 1 else logging.DEBUG if options["verbosity"] > 1 else 50
        for name in (TASKS_LOGGER, "django_tasks_db", "worker"):
            logging.getLogger(name).setLevel(level)
        if batch:
            run_batch(queues=queues, backend=backend_name)
        else:
            run(queues=queues, backend=backend_name, interval=interval)
