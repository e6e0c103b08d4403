from django.apps import AppConfig


class DeskConfig(AppConfig):
    """A staff member's own tools beside the appointments (issue 24): internal notes on an appointment and their own
    calendar feed. Above meetings in the layers (docs/layout.md), below privacy, which erases the notes."""

    name = "desk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are.
        from appointments import hooks
        from appointments.admin.views import registered_routes
        from config.leaving import on_leaving
        from desk import backoffice
        from desk.feed import feeds_end
        from desk.notes import note_history

        hooks.notes_panel.provide(backoffice.notes_panel)
        hooks.history_sources.register("desk: the notes", note_history)
        registered_routes.register("desk: notes and the calendar feed", backoffice.ROUTES)
        on_leaving.register("calendar feeds", feeds_end)
