"""The staff back office: agents run their day here, under the same rules as the API.

Every change to an appointment goes through `appointments.services` (the change form, the actions), so a rule
cannot be skipped by editing here; an invalid change shows the service's messages as form errors and saves
nothing. Staff see and change only their departments' records; superusers see all.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast
from urllib.parse import quote

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from appointments.history import appointment_history
from appointments.models import (
    FEATURE_FIELDS,
    ApiToken,
    Appointment,
    AppointmentQuerySet,
    Department,
    Status,
    departments_for,
)
from appointments.services import api_token_create, api_token_revoke, appointment_cancel, appointment_update
from claimants.models import ClaimantDataField, FieldType
from claimants.services import claimant_data_field_added


def _scoped(queryset: QuerySet[Any], request: HttpRequest, department_path: str) -> QuerySet[Any]:
    """Tenancy for every admin list and object: a staff member's departments only; a superuser sees all."""
    if request.user.is_superuser:
        return queryset
    return queryset.filter(**{f"{department_path}__in": departments_for(request.user).values("pk")})


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only services write (through the appointment's page and actions): listed, never edited."""

    department_path = "appointment__department"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _scoped(super().get_queryset(request), request, self.department_path)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- appointments -----------------------------------------------------------------------------------------------


class DepartmentFilter(admin.SimpleListFilter):
    """The staff member's departments, without scanning the appointments to find which ones occur."""

    title = "department"
    parameter_name = "department"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(d.pk), d.name) for d in departments_for(request.user)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(department_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows, so a page never costs a count of the whole table; past the cap the
    changelist says "more than 10000" and pages up to the cap (filters and the date hierarchy narrow it)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return int(cast(QuerySet[Any], self.object_list)[: self.cap + 1].count())

    @property
    def count_is_capped(self) -> bool:
        return self.count > self.cap


CLAIMANT_FIELDS = ("name", "phone_number", "email", "date_of_birth")


class AppointmentAdminForm(forms.ModelForm):
    """The appointment with its claimant and the claimant's data items, saved in one service call.

    Model validation is left to the service (`_post_clean` is off): it knows the rules the model cannot (the
    lifecycle, rescheduling, data types), and it is what the API runs, so the messages are the same.
    """

    actor: Any = None  # set per request by AppointmentAdmin.get_form

    claimant_name = forms.CharField(label="Name", max_length=255)
    claimant_phone_number = forms.CharField(label="Phone number", max_length=40, required=False)
    claimant_email = forms.CharField(label="Email", max_length=254, required=False)
    claimant_date_of_birth = forms.DateField(
        label="Date of birth", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # Plain text: the service validates redirect URLs as the API does (absolute http(s)), never guessing a scheme.
    custom_user_post_call_redirect_url = forms.CharField(max_length=2000, required=False)
    custom_agent_post_call_redirect_url = forms.CharField(max_length=2000, required=False)

    class Meta:
        model = Appointment
        fields = [
            "department",
            "appointment_at",
            "duration_in_minutes",
            "status",
            "cancellation_reason",
            "is_interpreter_needed",
            "interpreter_language",
            *FEATURE_FIELDS,
            "use_custom_post_call_redirect",
            "custom_user_post_call_redirect_url",
            "custom_agent_post_call_redirect_url",
        ]
        widgets = {"appointment_at": AdminSplitDateTime}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "department" in self.fields:
            self.fields["department"].queryset = departments_for(self.actor)  # type: ignore[attr-defined]
        claimant = self.instance.claimant
        for name in CLAIMANT_FIELDS:
            self.fields[f"claimant_{name}"].initial = getattr(claimant, name)
        self.data_items = {str(item.pk): item for item in claimant.data.select_related("field").order_by_field()}
        for key, item in self.data_items.items():
            self.fields[f"data_{key}"] = self._data_field(item.field, item.value)

    @staticmethod
    def _data_field(data_field: ClaimantDataField, value: str | None) -> forms.Field:
        label = data_field.name
        if data_field.type == FieldType.BOOLEAN:
            choices = [("", "—"), ("true", "Yes"), ("false", "No")]
            return forms.ChoiceField(label=label, choices=choices, required=data_field.required, initial=value or "")
        widget = forms.DateInput(attrs={"type": "date"}) if data_field.type == FieldType.DATE else None
        return forms.CharField(
            label=label,
            required=data_field.required,
            initial=value,
            widget=widget,
            help_text=f"{data_field.get_type_display()}{', required' if data_field.required else ''}",
        )

    def _post_clean(self) -> None:
        pass  # the service validates (see clean)

    def service_data(self) -> dict[str, Any]:
        """The changed fields, shaped as the API's PATCH body is for the service."""
        data: dict[str, Any] = {}
        claimant: dict[str, Any] = {}
        items: list[tuple[str, dict[str, Any]]] = []
        for name in self.changed_data:
            value = self.cleaned_data.get(name)
            value = None if value == "" else value
            if name.startswith("claimant_"):
                claimant[name.removeprefix("claimant_")] = value
            elif name.startswith("data_"):
                key = name.removeprefix("data_")
                items.append((key, {"id": uuid.UUID(key), "value": value}))
            elif name == "department":
                data["department_id"] = value.pk if value is not None else None
            else:
                data[name] = value
        if items:
            claimant["data"] = items
        if claimant:
            data["claimant"] = claimant
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not self.changed_data:
            return cleaned
        try:
            # Inside the admin view's transaction: a later failure there undoes this too.
            appointment_update(appointment=self.instance, data=self.service_data(), actor=self.actor)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                self.add_error(self._form_field(key), errors)
        return cleaned

    def _form_field(self, key: str) -> str | None:
        if key == "department_id":
            return "department"
        if key.startswith("claimant.data."):
            item_key = key.split(".")[2]
            return f"data_{item_key}" if f"data_{item_key}" in self.fields else None
        if key.startswith("claimant."):
            name = f"claimant_{key.removeprefix('claimant.')}"
            return name if name in self.fields else None
        return key if key in self.fields else None


class CancelForm(forms.Form):
    cancellation_reason = forms.CharField(
        label="Reason", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    form = AppointmentAdminForm
    list_display = [
        "appointment_at",
        "reference",
        "status",
        "department",
        "claimant_name",
        "interpreter",
        "duration_in_minutes",
    ]
    list_display_links = ["appointment_at", "reference"]
    list_filter = ["status", DepartmentFilter, "is_interpreter_needed"]
    list_select_related = ["department", "claimant"]
    search_fields = ["reference", "claimant__name", "claimant__email", "claimant__phone_number"]
    search_help_text = "Reference, claimant name, email or phone (+44…)."
    date_hierarchy = "appointment_at"
    ordering = ["appointment_at", "id"]
    show_full_result_count = False  # one count per page view, never a second one over the whole table
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = ["mark_waiting", "start_session", "end_session", "cancel_appointments", "mark_no_show"]
    readonly_fields = [
        "reference",
        "created_at",
        "cancelled_at",
        "session_started_at",
        "session_ended_at",
        "claimant_page",
        "meeting_details",
        "recent_history",
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Appointment | None = None) -> Any:
        data_fields = []
        if obj is not None:
            item_ids = obj.claimant.data.order_by_field().values_list("pk", flat=True)
            data_fields = [f"data_{item_id}" for item_id in item_ids]
        return [
            (
                None,
                {
                    "fields": [
                        "reference",
                        "department",
                        "appointment_at",
                        "duration_in_minutes",
                        "status",
                        "cancellation_reason",
                        "created_at",
                        "cancelled_at",
                        "session_started_at",
                        "session_ended_at",
                    ]
                },
            ),
            ("Claimant", {"fields": [f"claimant_{name}" for name in CLAIMANT_FIELDS]}),
            ("Claimant data", {"fields": data_fields}),
            ("Interpreter", {"fields": ["is_interpreter_needed", "interpreter_language"]}),
            ("Meeting", {"fields": ["meeting_details", "claimant_page"]}),
            ("Features", {"fields": list(FEATURE_FIELDS), "classes": ["collapse"]}),
            (
                "After the call",
                {
                    "fields": [
                        "use_custom_post_call_redirect",
                        "custom_user_post_call_redirect_url",
                        "custom_agent_post_call_redirect_url",
                    ],
                    "classes": ["collapse"],
                },
            ),
            ("History", {"fields": ["recent_history"]}),
        ]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # Data item fields are added per appointment in the form's __init__, not declared on the model form.
        if "fields" in kwargs and kwargs["fields"] is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if not name.startswith("data_")]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The joins the change page, its form and the history read, so get_object is one query.
        queryset = super().get_queryset(request).select_related("department", "claimant", "meeting")
        return _scoped(queryset, request, "department")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        # The API's search (indexed, one table at a time) rather than the admin's OR across the claimant join.
        return cast(AppointmentQuerySet, queryset).search(search_term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # appointments are created through the API, where the claimant's data is collected

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # appointments are cancelled, never deleted: the record and its history stay

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # the form's clean() already saved through appointment_update

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    @admin.display(description="claimant", ordering="claimant__name")
    def claimant_name(self, obj: Appointment) -> str:
        return obj.claimant.name

    @admin.display(description="interpreter", ordering="interpreter_language")
    def interpreter(self, obj: Appointment) -> str:
        return obj.interpreter_language or "—" if obj.is_interpreter_needed else "—"

    @admin.display(description="claimant's page")
    def claimant_page(self, obj: Appointment) -> str:
        return format_html('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>', obj.url)

    @admin.display(description="meeting")
    def meeting_details(self, obj: Appointment) -> str:
        meeting = obj.meeting
        return format_html(
            '{} (id {}), {} to {} UTC · <a class="join-meeting" href="{}#userInfo.displayName={}" '
            'target="_blank" rel="noopener noreferrer">Join as agent</a>',
            meeting.room_name,
            meeting.id,
            f"{meeting.start_date:%Y-%m-%d %H:%M}",
            f"{meeting.end_date:%H:%M}",
            meeting.room_url,
            quote('"Agent"'),
        )

    @admin.display(description="recent changes")
    def recent_history(self, obj: Appointment) -> str:
        entries = appointment_history(obj)[:5]
        if not entries:
            return "—"
        rows = format_html_join(
            "",
            "<li>{} · {} · {} {}: {}</li>",
            (
                (
                    f"{e.when:%Y-%m-%d %H:%M}",
                    e.who,
                    e.what,
                    e.kind,
                    "; ".join(f"{c.field} {c.old} → {c.new}" for c in e.changes) or "—",
                )
                for e in entries
            ),
        )
        history = reverse("admin:appointments_appointment_history", args=[obj.pk])
        return format_html(
            '<ul class="recent-history">{}</ul><a class="full-history" href="{}">Full history</a>', rows, history
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        appointment = self.get_object(request, object_id)
        if appointment is None or not self.has_view_or_change_permission(request, appointment):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of appointment {appointment.reference}",
            "subtitle": None,
            "opts": self.model._meta,
            "object": appointment,
            "entries": appointment_history(appointment),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/appointments/appointment/history.html", context)

    # --- actions, one service call per row, a message for each row that could not change ------------------

    def _transition(self, request: HttpRequest, queryset: QuerySet[Any], target: str, done: str) -> None:
        changed = 0
        for appointment in queryset:
            try:
                appointment_update(appointment=appointment, data={"status": target}, actor=request.user)
            except ValidationError as exc:
                messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
            else:
                changed += 1
        if changed:
            messages.success(request, f"{changed} appointment{'s' if changed != 1 else ''} {done}.")

    @admin.action(description="Mark selected appointments as waiting", permissions=["change"])
    def mark_waiting(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.WAITING, "marked as waiting")

    @admin.action(description="Start the session of selected appointments", permissions=["change"])
    def start_session(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.IN_PROGRESS, "started")

    @admin.action(description="End the session of selected appointments", permissions=["change"])
    def end_session(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.COMPLETED, "completed")

    @admin.action(description="Mark selected appointments as no-show", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.NO_SHOW, "marked as no-show")

    @admin.action(description="Cancel selected appointments…", permissions=["change"])
    def cancel_appointments(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["cancellation_reason"].strip() or None
            cancelled = 0
            for appointment in queryset:
                try:
                    appointment_cancel(appointment=appointment, reason=reason, actor=request.user)
                except ValidationError as exc:
                    messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
                else:
                    cancelled += 1
            if cancelled:
                messages.success(request, f"{cancelled} appointment{'s' if cancelled != 1 else ''} cancelled.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel appointments",
            "subtitle": None,
            "opts": self.model._meta,
            "appointments": queryset.select_related("claimant"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "cancel_appointments",
        }
        return TemplateResponse(request, "admin/appointments/appointment/cancel_selected.html", context)


# --- departments ------------------------------------------------------------------------------------------------


class ClaimantDataFieldInline(admin.TabularInline):
    model = ClaimantDataField
    extra = 0
    fields = ["position", "name", "type", "required"]
    ordering = ["position", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "field_count", "features_bandwidth"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    inlines = [ClaimantDataFieldInline]
    fieldsets = [
        (None, {"fields": ["name", "members"]}),
        ("Default features of new appointments", {"fields": list(FEATURE_FIELDS)}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = _scoped(super().get_queryset(request), request, "pk")
        return queryset.annotate(
            member_total=Count("members", distinct=True), field_total=Count("data_fields", distinct=True)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Membership decides what a user reaches: only a superuser grants it.
        return [] if request.user.is_superuser else ["name", "members"]

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_total)

    @admin.display(description="claimant data fields", ordering="field_total")
    def field_count(self, obj: Any) -> int:
        return int(obj.field_total)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for data_field in getattr(formset, "new_objects", []):
            if isinstance(data_field, ClaimantDataField):
                claimant_data_field_added(data_field=data_field, actor=request.user)


# --- API tokens -------------------------------------------------------------------------------------------------


class ApiTokenCreateForm(forms.ModelForm):
    """A new token for a user, optionally adding the user to departments; the secret is shown once."""

    actor: Any = None
    expires_in_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=365, help_text="0: the token never expires."
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        required=False,
        help_text="The user becomes a member of these departments; the token reaches the user's departments.",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = departments_for(self.actor)  # type: ignore[attr-defined]
        if not self.actor.is_superuser:
            mine = departments_for(self.actor)
            self.fields["user"].queryset = (  # type: ignore[attr-defined]
                self.fields["user"].queryset.filter(is_superuser=False, departments__in=mine).distinct()  # type: ignore[attr-defined]
            )

    def _post_clean(self) -> None:
        pass  # the token row is made by api_token_create, not from this form

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user = cleaned.get("user")
        if user is not None and not self.actor.is_superuser:
            # A token acts as its user: a manager may not mint access beyond their own departments.
            outside = user.departments.exclude(pk__in=departments_for(self.actor).values("pk"))
            if user.is_superuser or outside.exists():
                self.add_error("user", "This user reaches departments outside yours; ask a superuser.")
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "name", "created", "last_used_at", "expiry", "revoked_at", "state"]
    list_select_related = ["user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name", "token_key"]
    fields = ("token_key", "user", "name", "created", "last_used_at", "expiry", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__departments__in=departments_for(request.user).values("pk")).distinct()

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
        for department in form.cleaned_data["departments"]:
            department.members.add(user)
        days = form.cleaned_data["expires_in_days"]
        token, secret = api_token_create(
            user=user, name=form.cleaned_data["name"], expires_in=timedelta(days=days) if days else None
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
            "secret": request._api_token_secret,  # type: ignore[attr-defined]
        }
        response = TemplateResponse(request, "admin/appointments/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "expired" if obj.expiry is not None and obj.expiry <= timezone.now() else "active"

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("appointments.change_apitoken"))

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        revoked = 0
        for token in queryset:
            if token.revoked_at is None:
                api_token_revoke(token=token)
                revoked += 1
        messages.success(request, f"{revoked} token{'s' if revoked != 1 else ''} revoked.")
