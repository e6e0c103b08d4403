from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from events.tasks import events_requeue, events_stuck
        from worker.sweep import Sweeper, register

        register(Sweeper("events not dispatched", events_requeue, events_stuck))
