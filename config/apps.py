from django.contrib.admin.apps import AdminConfig


class BackOfficeConfig(AdminConfig):
    """Django's admin, named as the product: "Appointments" in every header and title, and "View site" opening
    the agent's day (the appointments list, today first) rather than a page this service does not have."""

    default_site = "config.apps.BackOfficeSite"

    def ready(self) -> None:
        super().ready()
        from config import checks  # noqa: F401 (registers the deploy checks of the settings' secrets)


from typing import Any  # noqa: E402

from django.contrib.admin import AdminSite  # noqa: E402
from django.contrib.auth import REDIRECT_FIELD_NAME  # noqa: E402
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect  # noqa: E402
from django.urls import path, reverse  # noqa: E402


class BackOfficeSite(AdminSite):
    site_header = "Appointments"
    site_title = "Appointments back office"
    index_title = "Back office"
    site_url = "/admin/appointments/appointment/"

    def get_urls(self) -> list[Any]:
        return [path("start/", self.admin_view(self.start), name="start"), *super().get_urls()]

    def start(self, request: HttpRequest) -> HttpResponse:
        """Where signing in lands (issue 17.11): the day's appointments for whoever may see them, otherwise the
        index of what they may."""
        if request.user.has_perm("appointments.view_appointment"):
            return HttpResponseRedirect(reverse("admin:appointments_appointment_changelist", current_app=self.name))
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Django sends a sign-in without a page to return to to its index of models; staff start on their day.
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            start = reverse("admin:start", current_app=self.name)
            extra_context = {REDIRECT_FIELD_NAME: start, **(extra_context or {})}
        return super().login(request, extra_context)
