from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and these modules import the models.
        from django.conf import settings

        from events import handlers
        from webhooks.services import deliveries_for_event, deliveries_requeue, deliveries_stuck
        from webhooks.tasks import webhook_deliver, webhook_deliver_many
        from worker.runner import Batched, register_batched
        from worker.sweep import Sweeper, register

        # Every type: each endpoint says which it wants (Endpoint.wants).
        handlers.register("webhooks: deliveries", deliveries_for_event)
        register(Sweeper("webhook deliveries", deliveries_requeue, deliveries_stuck))
        # The worker takes due deliveries WEBHOOK_BATCH_SIZE at a time (webhooks.tasks.deliveries_attempt).
        register_batched(
            webhook_deliver.module_path, Batched(lambda: settings.WEBHOOK_BATCH_SIZE, webhook_deliver_many)
        )
