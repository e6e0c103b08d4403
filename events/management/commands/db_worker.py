"""`manage.py db_worker`: django-tasks-db's task worker, which first checks the settings production needs (this
app comes before django_tasks_db in INSTALLED_APPS, so this command is the one `manage.py` runs)."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as WorkerCommand

from config.startup import require_secret_key


class Command(WorkerCommand):
    def execute(self, *args: Any, **options: Any) -> str | None:
        require_secret_key()
        return super().execute(*args, **options)
