from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webhooks.services import deliveries_requeue, deliveries_stuck
        from worker.sweep import Sweeper, register

        register(Sweeper("webhook deliveries", deliveries_requeue, deliveries_stuck))
