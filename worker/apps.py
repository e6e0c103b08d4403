from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """The task worker: `manage.py db_worker` (django-tasks-db's worker loop, with leases, a sweep, a health
    endpoint and a database outage survived), see worker/runner.py."""

    name = "worker"
    default_auto_field = "django.db.models.BigAutoField"
