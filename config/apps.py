from django.contrib.admin.apps import AdminConfig


class BackOfficeConfig(AdminConfig):
    """Django's admin, named as the product: "Appointments" in every header and title, and "View site" opening
    the agent's day (the appointments list, today first) rather than a page this service does not have."""

    default_site = "config.apps.BackOfficeSite"

    def ready(self) -> None:
        super().ready()
        from config import checks  # noqa: F401 (registers the deploy checks of the settings' secrets)


from django.contrib.admin import AdminSite  # noqa: E402


class BackOfficeSite(AdminSite):
    site_header = "Appointments"
    site_title = "Appointments back office"
    index_title = "Back office"
    site_url = "/admin/appointments/appointment/"
