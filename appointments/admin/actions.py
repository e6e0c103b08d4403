"""The appointment list's actions: one service call per row, and a message for each row that could not change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin, helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from appointments.forms import CancelForm
from appointments.models import Appointment, Status
from appointments.services import appointment_cancel, appointment_follow_up, appointment_update


def _plural(count: int) -> str:
    return f"{count} appointment{'s' if count != 1 else ''}"


def _each(
    request: HttpRequest, queryset: QuerySet[Appointment], change: Callable[[Appointment], object], done: str
) -> None:
    """`change` each selected appointment through its service, a message for each that could not, and one for
    how many did."""
    changed = 0
    for appointment in queryset:
        try:
            change(appointment)
        except ValidationError as exc:
            messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
        else:
            changed += 1
    if changed:
        messages.success(request, f"{_plural(changed)} {done}.")


Action: TypeAlias = Callable[[ModelAdmin[Appointment], HttpRequest, QuerySet[Appointment]], None]


def _moving_to(status: str, name: str, description: str, done: str) -> Action:
    """The action that moves each selected appointment to `status` (the service's rules decide if it may)."""

    def action(model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        _each(
            request,
            queryset,
            lambda one: appointment_update(appointment=one, data={"status": status}, actor=request.user),
            done,
        )

    action.__name__ = action.__qualname__ = name  # the action's name in the form Django posts
    return admin.action(description=description, permissions=["change"])(action)


mark_waiting = _moving_to(Status.WAITING, "mark_waiting", "Mark selected appointments as waiting", "marked as waiting")
start_session = _moving_to(Status.IN_PROGRESS, "start_session", "Start the session of selected appointments", "started")
end_session = _moving_to(Status.COMPLETED, "end_session", "End the session of selected appointments", "completed")
mark_no_show = _moving_to(Status.NO_SHOW, "mark_no_show", "Mark selected appointments as no-show", "marked as no-show")


@admin.action(description="Mark selected missed appointments as followed up", permissions=["change"])
def mark_followed_up(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]
) -> None:
    _each(
        request,
        queryset,
        lambda one: appointment_follow_up(appointment=one, actor=request.user),
        "marked as followed up",
    )


@admin.action(description="Cancel selected appointments…", permissions=["change"])
def cancel_appointments(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]
) -> HttpResponse | None:
    """Asks for the reason first (the intermediate page), then cancels each appointment with it."""
    form = CancelForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        reason = form.cleaned_data["cancellation_reason"].strip() or None
        _each(
            request,
            queryset,
            lambda one: appointment_cancel(appointment=one, reason=reason, actor=request.user),
            "cancelled",
        )
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Cancel appointments",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "appointments": queryset.select_related("claimant", "department"),
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": cancel_appointments.__name__,
    }
    return TemplateResponse(request, "admin/appointments/appointment/cancel_selected.html", context)


# In the list's menu in this order (Django adds no "delete selected": appointments are never deleted).
ACTIONS = [mark_waiting, start_session, end_session, cancel_appointments, mark_no_show, mark_followed_up]
