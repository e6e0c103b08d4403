"""The appointment list's actions: one service call per row, and a message for each row that could not change."""

from __future__ import annotations

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


def _transition(request: HttpRequest, queryset: QuerySet[Appointment], target: str, done: str) -> None:
    changed = 0
    for appointment in queryset:
        try:
            appointment_update(appointment=appointment, data={"status": target}, actor=request.user)
        except ValidationError as exc:
            messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
        else:
            changed += 1
    if changed:
        messages.success(request, f"{_plural(changed)} {done}.")


@admin.action(description="Mark selected appointments as waiting", permissions=["change"])
def mark_waiting(model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
    _transition(request, queryset, Status.WAITING, "marked as waiting")


@admin.action(description="Start the session of selected appointments", permissions=["change"])
def start_session(model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
    _transition(request, queryset, Status.IN_PROGRESS, "started")


@admin.action(description="End the session of selected appointments", permissions=["change"])
def end_session(model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
    _transition(request, queryset, Status.COMPLETED, "completed")


@admin.action(description="Mark selected appointments as no-show", permissions=["change"])
def mark_no_show(model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
    _transition(request, queryset, Status.NO_SHOW, "marked as no-show")


@admin.action(description="Mark selected missed appointments as followed up", permissions=["change"])
def mark_followed_up(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]
) -> None:
    done = 0
    for appointment in queryset:
        try:
            appointment_follow_up(appointment=appointment, actor=request.user)
        except ValidationError as exc:
            messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
        else:
            done += 1
    if done:
        messages.success(request, f"{_plural(done)} marked as followed up.")


@admin.action(description="Cancel selected appointments…", permissions=["change"])
def cancel_appointments(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, queryset: QuerySet[Appointment]
) -> HttpResponse | None:
    """Asks for the reason first (the intermediate page), then cancels each appointment with it."""
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
            messages.success(request, f"{_plural(cancelled)} cancelled.")
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
