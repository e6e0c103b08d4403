from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The claimant's personal data over its life: what is kept (the marks), retention, erasure, access, holds."""

    name = "privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are.
        from appointments import hooks
        from appointments.admin.views import registered_routes
        from privacy import backoffice
        from privacy.catalogue import mark_others
        from privacy.permissions import MANAGE_PERSONAL_DATA
        from privacy.retention import retention_requeue, retention_stuck
        from worker.sweep import Sweeper, register

        mark_others()
        hooks.personal_data_panel.provide((MANAGE_PERSONAL_DATA, backoffice.panel))
        registered_routes.register("privacy: the personal data section", backoffice.ROUTES)
        # The daily retention run is enqueued by the sweep when none waits (the first start, a lost task).
        register(Sweeper("privacy: the daily retention run", retention_requeue, retention_stuck))
