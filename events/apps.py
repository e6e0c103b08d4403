from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and these modules import the models.
        from events.tasks import events_requeue, events_stuck
        from worker.sweep import Sweeper, register

        register(Sweeper("events not dispatched", events_requeue, events_stuck))
