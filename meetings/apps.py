from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and these modules import the models.
        from events import handlers
        from events.models import EventType
        from meetings.tasks import schedule_absence_check

        handlers.register(
            "meetings: the absence check", schedule_absence_check, [EventType.PARTICIPANT_JOINED_WAITING_ROOM]
        )
