from django.contrib.admin.apps import AdminConfig


class BackOfficeConfig(AdminConfig):
    """Django's admin, named as the product: "Appointments" in every header and title, and "View site" opening
    the agent's day (the appointments list, today first) rather than a page this service does not have."""

    default_site = "config.apps.BackOfficeSite"

    def ready(self) -> None:
        super().ready()
        from config import (
            checks,  # noqa: F401 (registers the deploy checks of the settings' secrets)
            loaders,  # noqa: F401 (connects the timestamps' loader to every new connection)
        )


from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.contrib.admin import AdminSite  # noqa: E402
from django.contrib.auth import REDIRECT_FIELD_NAME, logout  # noqa: E402
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect  # noqa: E402
from django.urls import path, reverse  # noqa: E402


class BackOfficeSite(AdminSite):
    site_header = "Appointments"
    site_title = "Appointments back office"
    index_title = "Back office"
    site_url = "/admin/appointments/appointment/"

    @property
    def login_form(self) -> Any:  # type: ignore[override]  # a class attribute in Django; read here on first use
        from config.sign_in import BackOfficeSignInForm

        return BackOfficeSignInForm

    def get_urls(self) -> list[Any]:
        from django.views.i18n import JavaScriptCatalog

        from config import authenticator_app, second_factor

        return [
            path("start/", self.admin_view(self.start), name="start"),
            # Before the back office opens: not behind admin_view, which asks for the second factor.
            path("second-factor/", lambda r: second_factor.second_factor_view(self, r), name="second_factor"),
            path(
                "second-factor/recovery-codes/",
                self.admin_view(lambda r: second_factor.recovery_codes_view(self, r)),
                name="recovery_codes",
            ),
            path(
                "second-factor/passkeys/",
                self.admin_view(lambda r: second_factor.passkeys_view(self, r)),
                name="passkeys",
            ),
            path(
                "second-factor/app/",
                self.admin_view(lambda r: authenticator_app.authenticator_app_view(self, r)),
                name="authenticator_app",
            ),
            # The passkey ceremonies answer JSON to the page's script; each says itself who may run it.
            *(
                path(f"second-factor/passkey/{where}/", view.as_view(), name=name)
                for where, view, name in (
                    ("register", second_factor.PasskeyRegisterBegin, "passkey_register_begin"),
                    ("registered", second_factor.PasskeyRegisterComplete, "passkey_register_complete"),
                    ("sign-in", second_factor.PasskeySignInBegin, "passkey_sign_in_begin"),
                    ("signed-in", second_factor.PasskeySignInComplete, "passkey_sign_in_complete"),
                )
            ),
            path(
                "second-factor/jsi18n/",
                JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
                name="passkey_i18n",
            ),
            *super().get_urls(),
        ]

    def has_permission(self, request: HttpRequest) -> bool:
        from config.second_factor import second_factor_passed
        from config.sign_in import password_session_allowed

        return super().has_permission(request) and password_session_allowed(request) and second_factor_passed(request)

    def start(self, request: HttpRequest) -> HttpResponse:
        """Where signing in lands (issue 17.11): the day's appointments for whoever may see them, otherwise the
        index of what they may."""
        if request.user.has_perm("appointments.view_appointment"):
            return HttpResponseRedirect(reverse("admin:appointments_appointment_changelist", current_app=self.name))
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from config.sign_in import password_session_allowed, passwords_for_superusers_only

        user = request.user
        if user.is_authenticated and not password_session_allowed(request):
            logout(request)  # a password session from before passwords were kept for the break-glass account
            messages.info(request, "You were signed out: staff now sign in with their organisation's account.")
            user = request.user
        if request.method == "GET" and user.is_authenticated and user.is_active and user.is_staff:
            # Signed in with a password, without the second factor yet (has_permission said no): ask for it.
            from config.second_factor import second_factor_passed

            if not second_factor_passed(request):
                wanted = request.GET.get(REDIRECT_FIELD_NAME, "")
                return HttpResponseRedirect(
                    reverse("admin:second_factor", current_app=self.name) + (f"?next={quote(wanted)}" if wanted else "")
                )
        providers = [
            {
                "id": provider["id"],
                "name": provider.get("name", provider["id"]),
                "url": reverse("organisation_login", kwargs={"provider_id": provider["id"]}),
            }
            for provider in settings.OIDC_PROVIDERS
        ]
        extra_context = {
            "organisation_providers": providers,
            "break_glass_only": passwords_for_superusers_only(),
            **(extra_context or {}),
        }
        # Django sends a sign-in without a page to return to to its index of models; staff start on their day.
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            start = reverse("admin:start", current_app=self.name)
            extra_context = {REDIRECT_FIELD_NAME: start, **(extra_context or {})}
        return super().login(request, extra_context)
