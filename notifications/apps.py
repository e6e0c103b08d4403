from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications import checks  # noqa: F401 (registers the SMS_BACKEND checks)
        from notifications.tasks import notifications_requeue, notifications_stuck
        from worker.sweep import Sweeper, register

        register(Sweeper("messages", notifications_requeue, notifications_stuck))
