"""API tokens in the back office: issued (the secret shown once), listed and revoked; never edited or deleted."""

from datetime import timedelta
from typing import Any

from allauth.account import admin as allauth_account_admin
from allauth.account.models import EmailAddress
from allauth.socialaccount import admin as allauth_social_admin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_static import admin as otp_static_admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as otp_totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import ApiTokenCreateForm
from accounts.models import ApiToken
from accounts.services import Leaving, api_token_create, api_token_revoke, second_factor_reset, user_deactivate
from appointments.local_time import staff_zone
from appointments.models import Department
from config.admin import local_time, rendered


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "name", "created_on", "last_used", "expires", "revoked", "state"]
    list_select_related = ["user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name", "token_key"]
    fields = ("token_key", "user", "name", "created_on", "last_used", "expires", "revoked")
    readonly_fields = fields
    actions = ["revoke"]

    # A token belongs to a user, not a department: its times are in the signed-in staff member's zone (the one
    # their "today" is in), labelled (issue 17.10); the views below make it the current zone.
    created_on = local_time("created", "created")
    last_used = local_time("last_used_at", "last used")
    expires = local_time("expiry", "expiry")
    revoked = local_time("revoked_at", "revoked")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        with timezone.override(staff_zone(request.user)):
            return rendered(super().changelist_view(request, extra_context))

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        with timezone.override(staff_zone(request.user)):
            return rendered(super().changeform_view(request, object_id, form_url, extra_context))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            user__departments__in=Department.objects.visible_to(request.user).values("pk")
        ).distinct()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            return type("ApiTokenCreateForm", (ApiTokenCreateForm,), {"actor": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "name", "expires_in_days", "departments"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is never edited: it is revoked and, if needed, replaced

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked tokens stay on record

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        user = form.cleaned_data["user"]
        days = form.cleaned_data["expires_in_days"]
        token, secret = api_token_create(
            user=user,
            name=form.cleaned_data["name"],
            expires_in=timedelta(days=days) if days else None,
            actor=request.user,
            departments=form.cleaned_data["departments"],
        )
        obj.pk = token.pk
        obj.token_key = token.token_key
        obj.user = user
        request._api_token_secret = secret  # type: ignore[attr-defined]  # shown once by response_add

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> HttpResponse:
        # Rendered straight into this response: never put into a message, a session or a cookie.
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "subtitle": None,
            "opts": self.model._meta,
            "token": get_object_or_404(ApiToken.objects.select_related("user"), pk=obj.pk),
            "zone": staff_zone(request.user).key,
            "secret": request._api_token_secret,  # type: ignore[attr-defined]
        }
        response = TemplateResponse(request, "admin/accounts/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "expired" if obj.expiry is not None and obj.expiry <= timezone.now() else "active"

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("accounts.change_apitoken"))

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        revoked = 0
        for token in queryset:
            if token.revoked_at is None:
                api_token_revoke(token=token)
                revoked += 1
        messages.success(request, f"{revoked} token{'s' if revoked != 1 else ''} revoked.")


class StaffUserAdmin(UserAdmin):
    """Django's user page, with the sign-in dates shown rather than edited: nobody sets them by hand, and posting
    them back through date and time inputs dropped their microseconds, so saving a user unchanged changed them
    (issue 17.1).

    Unticking "Active" on the page, or the "Deactivate" action, is a leaving (accounts.services.user_deactivate):
    sessions, tokens and the rest end with it, and the message says which appointments a manager must reassign.
    """

    readonly_fields = ("last_login", "date_joined")
    actions = ["deactivate", "reset_second_factor"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        leaving = change and "is_active" in form.changed_data and not obj.is_active
        if leaving and obj.pk == request.user.pk:
            raise PermissionDenied  # the form's own check (clean) said so first; this is the last guard
        super().save_model(request, obj, form, change)
        if leaving:
            _say_left(request, user_deactivate(user=obj, actor=request.user))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.pk == request.user.pk:
            return type(form.__name__, (form, _NotMyself), {})
        return form

    @admin.action(description="Deactivate selected users (ends their sessions and API tokens)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset.exclude(pk=request.user.pk):
            _say_left(request, user_deactivate(user=user, actor=request.user))
        if queryset.filter(pk=request.user.pk).exists():
            messages.error(request, "You cannot deactivate yourself.")

    @admin.action(
        description="Reset second factor of selected users (they enrol again at their next sign-in)",
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset.exclude(pk=request.user.pk):
            deleted = second_factor_reset(user=user, actor=request.user)
            if not deleted:
                messages.info(
                    request, f"Nothing to reset for {user.get_username()}: they have not set up a second factor."
                )
                continue
            devices = "1 device" if deleted == 1 else f"{deleted} devices"
            # Said after a phrase of its own: the admin's messages capitalise their first letter, not a username's.
            messages.success(
                request,
                f"Second factor reset for {user.get_username()}: {devices} removed; they enrol again at their next "
                "sign-in.",
            )
        if queryset.filter(pk=request.user.pk).exists():
            messages.error(request, "You cannot reset your own second factor.")

    def has_reset_second_factor_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


class _NotMyself(forms.ModelForm):
    """The signed-in staff member's own page: unticking "Active" would lock them out at once."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "is_active" in cleaned and not cleaned["is_active"]:
            self.add_error("is_active", "You cannot deactivate yourself.")
        return cleaned


def _say_left(request: HttpRequest, leaving: Leaving) -> None:
    name = leaving.user.get_username()
    messages.success(
        request,
        f"{name} deactivated: {leaving.sessions_ended} session(s) ended, {leaving.tokens_revoked} API token(s) "
        f"revoked.",
    )
    if leaving.to_reassign:
        listing = reverse("admin:appointments_appointment_changelist") + "?show=attention"
        messages.warning(
            request,
            format_html(
                '{} appointment(s) of {} have not started: reassign them under <a href="{}">Needs attention</a>.',
                len(leaving.to_reassign),
                name,
                listing,
            ),
        )


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffUserAdmin)

# What the libraries register in the admin and the back office does not offer (docs/decisions.md, "The libraries'
# own admin pages"): the organisations' sign-in is configured by settings (OIDC_PROVIDERS), so allauth's apps page
# would be a second place for it; its tokens are the providers' refresh tokens, secrets no page shows; its accounts
# and email addresses are its bookkeeping of the identity provider's claims, kept in step at each sign-in. django-otp's
# device pages show and edit a device's secret key: a lost factor is reset by the users page's action instead.
_import_registrations = (allauth_account_admin, allauth_social_admin, otp_totp_admin, otp_static_admin)
for _model in (EmailAddress, SocialApp, SocialToken, SocialAccount, TOTPDevice, StaticDevice):
    admin.site.unregister(_model)
