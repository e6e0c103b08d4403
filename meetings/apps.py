from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and these modules import the models.
        from appointments import hooks
        from appointments.admin.views import registered_routes
        from events import handlers
        from events.models import EventType
        from meetings import backoffice, participants_panel
        from meetings.api.serializers import MeetingSerializer
        from meetings.models import Meeting
        from meetings.selectors import claimant_waits, claimant_waits_by_agent, meeting_history
        from meetings.services.follow import follow_change, follow_create, follow_foreseen
        from meetings.services.pages import claimant_appeared_at, claimant_in_waiting_room
        from meetings.tasks import schedule_absence_check

        handlers.register(
            "meetings: the absence check", schedule_absence_check, [EventType.PARTICIPANT_JOINED_WAITING_ROOM]
        )
        hooks.claimant_waits.provide(claimant_waits)
        hooks.claimant_waits_by_agent.provide(claimant_waits_by_agent)
        hooks.meeting_field.provide(lambda: MeetingSerializer(read_only=True))
        hooks.after_create.register("meetings: the meeting and participants", follow_create)
        hooks.after_change.register("meetings: the meeting and participants follow", follow_change)
        hooks.change_foreseen.register("meetings: the meeting and participants follow", follow_foreseen)
        hooks.claimant_appeared_at.provide(claimant_appeared_at)
        hooks.claimant_in_waiting_room.provide(claimant_in_waiting_room)
        hooks.locked_parts.register("meetings: the meeting", hooks.LockedPart("meeting", Meeting))
        hooks.history_sources.register("meetings: the meeting", meeting_history)
        hooks.participants_panel.provide(participants_panel.participants_panel)
        registered_routes.register("meetings: the meeting pages", backoffice.ROUTES)
