from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and these modules import the models.
        from appointments import checks  # noqa: F401 (registers the settings' checks)
        from appointments.events import appointment_representation
        from appointments.models import Department
        from appointments.tasks import SCHEDULING_EVENTS, schedule_for_event
        from config.admin import departments_visible_to
        from events import handlers
        from events.services import representation_reader

        representation_reader.provide(appointment_representation)
        departments_visible_to.provide(Department.objects.visible_to)
        handlers.register("appointments: the checks after the meeting", schedule_for_event, SCHEDULING_EVENTS)
