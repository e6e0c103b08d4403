from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and these modules import the models.
        from appointments import hooks
        from appointments.admin.views import registered_routes
        from events import handlers
        from notifications import (
            backoffice,
            checks,  # noqa: F401 (registers the SMS_BACKEND checks)
        )
        from notifications.services import ANNOUNCED
        from notifications.tasks import (
            notifications_for_event,
            notifications_foreseen,
            notifications_requeue,
            notifications_stuck,
        )
        from worker.sweep import Sweeper, register

        handlers.register("notifications: the claimant's messages", notifications_for_event, ANNOUNCED)
        handlers.messages_foreseen.register("notifications: the claimant's messages", notifications_foreseen)
        register(Sweeper("messages", notifications_requeue, notifications_stuck))
        hooks.messages_panel.provide(backoffice.panel)
        registered_routes.register("notifications: the messages panel", backoffice.ROUTES)
