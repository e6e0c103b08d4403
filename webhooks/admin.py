"""Webhook endpoints for department managers, and every delivery with its attempts, with "send again"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin, scoped
from webhooks.forms import EndpointForm
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.permissions import may_manage_endpoints
from webhooks.services import delivery_resend, endpoint_ping


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "department", "is_active", "subscribed", "failing_since"]
    list_filter = ["is_active", "department"]
    readonly_fields = ["signing_secret", "failing_since", "disabled_reason", "created_at", "updated_at"]
    actions = ["send_test_event"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(super().get_queryset(request).select_related("department"), request, "department")

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

    @admin.display(description="signing secret")
    def signing_secret(self, obj: Endpoint) -> str:
        return "Made when the endpoint is saved." if obj._state.adding else format_html("<code>{}</code>", obj.secret)

    @admin.action(description="Send a test event to selected endpoints", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            endpoint_ping(endpoint=endpoint)
        self.message_user(request, f"Test events queued for {queryset.count()} endpoint(s).", messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ("at", "status_code", "error", "duration_ms", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_endpoints(request.user)  # the attempts are part of their delivery


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    department_path = "endpoint__department"
    list_display = ["created_at", "event_type", "endpoint", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "event__type"]
    list_select_related = ["event", "endpoint"]
    fields = ("endpoint", "event_type", "webhook_id", "status", "attempts", "next_attempt_at", "finished_at")
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["send_again"]

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
