"""Webhook endpoints for department managers, and every delivery with its attempts, with "send again"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin, local_time, scoped
from webhooks.forms import EndpointForm
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.permissions import may_manage_endpoints
from webhooks.services import (
    SECRET_OVERLAP_DEFAULT,
    PingLimited,
    delivery_resend,
    endpoint_keep,
    endpoint_ping,
    endpoint_rotate_secret,
)


class CreatorFilter(admin.SimpleListFilter):
    """ "Needs attention": endpoints whose creator was deactivated go on sending claimants' data until a manager
    keeps them (and answers for them) or deletes them."""

    title = "created by"
    parameter_name = "creator"
    DEACTIVATED = "deactivated"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.DEACTIVATED, "A deactivated user (needs attention)"), ("active", "An active user")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == self.DEACTIVATED:
            return queryset.filter(created_by__is_active=False)
        if self.value() == "active":
            return queryset.filter(created_by__is_active=True)
        return queryset


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm

    list_display = ["url", "department", "is_active", "subscribed", "failing", "creator"]
    list_filter = [CreatorFilter, "is_active", "department"]
    readonly_fields = [
        "signing_secret",
        "previous_secret_until",
        "failing",
        "disabled_reason",
        "creator",
        "created",
        "updated",
    ]
    actions = ["send_test_event", "rotate_secret", "keep"]

    # Times in the endpoint's department's zone, labelled (issue 17.10).
    failing = local_time("failing_since", "failing since", lambda endpoint: endpoint.department)
    created = local_time("created_at", "created", lambda endpoint: endpoint.department)
    updated = local_time("updated_at", "updated", lambda endpoint: endpoint.department)
    previous_secret_until = local_time(
        "previous_secret_expires_at", "previous secret also signs until", lambda endpoint: endpoint.department
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request).select_related("department", "created_by")
        return scoped(queryset, request, "department")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.method == "GET" and CreatorFilter.parameter_name not in request.GET:
            waiting = self.get_queryset(request).filter(created_by__is_active=False).count()
            if waiting:
                self.message_user(
                    request,
                    format_html(
                        '{} endpoint(s) created by a deactivated user still receive events: <a href="?{}={}">keep '
                        "or delete them</a>.",
                        waiting,
                        CreatorFilter.parameter_name,
                        CreatorFilter.DEACTIVATED,
                    ),
                    messages.WARNING,
                )
        return super().changelist_view(request, extra_context)

    # One permission for everything about endpoints, as in the API (webhooks.permissions).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_endpoints(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_endpoints(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_manage_endpoints(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_endpoints(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_endpoints(request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.instance  # saved by the form's clean(), through the services

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    @admin.display(description="events")
    def subscribed(self, obj: Endpoint) -> str:
        return ", ".join(obj.event_types) if obj.event_types else "every event"

    @admin.display(description="created by", ordering="created_by__username")
    def creator(self, obj: Endpoint) -> str:
        if obj.created_by is None:
            return "-"
        return obj.created_by.username + ("" if obj.created_by.is_active else " (deactivated)")

    @admin.display(description="signing secret")
    def signing_secret(self, obj: Endpoint) -> str:
        return "Made when the endpoint is saved." if obj._state.adding else format_html("<code>{}</code>", obj.secret)

    @admin.action(description="Send a test event to selected endpoints", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        sent, limited = 0, []
        for endpoint in queryset:
            try:
                endpoint_ping(endpoint=endpoint)
                sent += 1
            except PingLimited as exc:
                limited.append(f"{endpoint.url}: {exc} Try again in {exc.retry_after} seconds.")
        if sent:
            self.message_user(request, f"Test events queued for {sent} endpoint(s).", messages.SUCCESS)
        for refusal in limited:
            self.message_user(request, f"No test event for {refusal}", messages.WARNING)

    @admin.action(
        description="Rotate the signing secret of selected endpoints (the old one also signs for 24 hours)",
        permissions=["change"],
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            endpoint_rotate_secret(endpoint=endpoint, overlap=SECRET_OVERLAP_DEFAULT)
        self.message_user(
            request,
            f"New signing secrets for {queryset.count()} endpoint(s), shown on each endpoint's page; the previous "
            "ones sign every delivery beside them for 24 hours.",
            messages.SUCCESS,
        )

    @admin.action(description="Keep selected endpoints (I answer for them from now on)", permissions=["change"])
    def keep(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            endpoint_keep(endpoint=endpoint, actor=request.user)
        self.message_user(request, f"You now answer for {queryset.count()} endpoint(s).", messages.SUCCESS)


def _department(delivery: Delivery) -> Any:
    return delivery.endpoint.department


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ("when", "status_code", "error", "duration_ms", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    when = local_time("at", "at", lambda attempt: _department(attempt.delivery))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("delivery__endpoint__department")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_endpoints(request.user)  # the attempts are part of their delivery


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    department_path = "endpoint__department"
    list_display = ["created", "event_type", "endpoint", "status", "attempts", "next_attempt"]
    list_filter = ["status", "event__type"]
    list_select_related = ["event", "endpoint__department"]
    fields = ("endpoint", "event_type", "webhook_id", "status", "attempts", "created", "next_attempt", "finished")
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["send_again"]

    # Times in the endpoint's department's zone, labelled (issue 17.10).
    created = local_time("created_at", "created", _department)
    next_attempt = local_time("next_attempt_at", "next attempt", _department)
    finished = local_time("finished_at", "finished", _department)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("event", "endpoint__department")

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return str(obj.event.type)

    @admin.display(description="webhook-id")
    def webhook_id(self, obj: Delivery) -> str:
        return f"msg_{obj.event.id.hex}"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_endpoints(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_endpoints(request.user)

    @admin.action(description="Send selected deliveries again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        for delivery in queryset:
            delivery_resend(delivery=delivery)
        self.message_user(
            request, f"{queryset.count()} delivery(ies) queued again, with the same webhook-id.", messages.SUCCESS
        )
