from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """API tokens and the staff groups."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: an AppConfig module is imported before the models are (Django's app
        # loading), and accounts.groups imports them.
        from accounts.groups import ensure_staff_groups

        # Sent once per app; the last app's signal comes after every app's permissions exist.
        post_migrate.connect(ensure_staff_groups, dispatch_uid="accounts.ensure_staff_groups")
