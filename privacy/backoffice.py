"""The appointment admin page's personal data section (issue 21.2, 21.3, 21.4, 21.7): what is kept until when, the
access export, legal holds and erasure, for staff with privacy.manage_personal_data, through the same services as
the API. Registered into the appointment admin from PrivacyConfig.ready() (its panel and its routes)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_date

from appointments.admin.views import ONE, Route
from appointments.models import Appointment
from appointments.retention import appointment_erase_after, retention_days
from privacy.erasure import OnHold, appointment_erase, hold_in_force
from privacy.export import personal_data_export
from privacy.holds import legal_hold_lift, legal_hold_place
from privacy.models import Erasure
from privacy.permissions import may_manage_personal_data


def panel(appointment: Appointment) -> str:
    """The section's HTML (appointments.hooks.personal_data_panel)."""
    erasure = Erasure.objects.filter(appointment_id=appointment.pk).select_related("erased_by").first()
    context = {
        "appointment": appointment,
        "erasure": erasure,
        "erased_rows": sum(erasure.counts.values()) if erasure is not None else 0,
        "hold": hold_in_force(appointment),
        "retention_days": retention_days(appointment.department),
        "erase_after": appointment_erase_after(appointment),
    }
    return render_to_string("admin/privacy/personal_data_panel.html", context)


def _appointment(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> Appointment:
    """The appointment if it is in the staff member's departments (else the same 404), and only for staff who may
    manage personal data (else 403)."""
    if not may_manage_personal_data(request.user):
        raise PermissionDenied
    try:
        return model_admin.get_queryset(request).select_related("department", "claimant").get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def _back(appointment: Appointment) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("admin:appointments_appointment_change", args=[appointment.pk]) + "#personal-data"
    )


def _refused(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def erase(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    appointment = _appointment(model_admin, request, appointment_id)
    if request.POST.get("erase_confirm") != "yes":
        messages.error(request, "Tick the box to confirm: erasing cannot be undone. Nothing was erased.")
        return _back(appointment)
    try:
        erasure = appointment_erase(appointment_id=appointment.pk, actor=request.user, viewer=request.user)
    except OnHold as held:
        messages.error(request, f"The appointment is on legal hold: {held.hold.reason}. Nothing was erased.")
        return _back(appointment)
    messages.success(request, f"The claimant's personal data was erased: {sum(erasure.counts.values())} rows changed.")
    return _back(appointment)


def hold(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    appointment = _appointment(model_admin, request, appointment_id)
    written = request.POST.get("legal_hold_until", "").strip()
    try:
        until = parse_date(written) if written else None
    except ValueError:
        until = None
    if written and until is None:
        messages.error(request, "Enter the hold's last day as a date, or leave it blank. No hold was placed.")
        return _back(appointment)
    try:
        legal_hold_place(
            appointment_id=appointment.pk,
            reason=request.POST.get("legal_hold_reason", ""),
            until=until,
            actor=request.user,
            viewer=request.user,
        )
    except ValidationError as error:
        _refused(request, error)
        return _back(appointment)
    messages.success(request, "The appointment is on legal hold: it will not be erased until the hold is lifted.")
    return _back(appointment)


def lift(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    appointment = _appointment(model_admin, request, appointment_id)
    legal_hold_lift(appointment_id=appointment.pk, actor=request.user, viewer=request.user)
    messages.success(request, "The legal hold is lifted.")
    return _back(appointment)


def export(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """The access export as a file to download (the API's document)."""
    appointment = _appointment(model_admin, request, appointment_id)
    document = personal_data_export(appointment=appointment, actor=request.user, door="back office")
    response = HttpResponse(
        json.dumps({"data": document}, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="personal-data-{appointment.pk}.json"'
    return response


ROUTES = (
    Route(f"{ONE}/personal-data.json", export, "privacy_personal_data_export"),
    Route(f"{ONE}/personal-data/erase/", erase, "privacy_personal_data_erase", post_only=True),
    Route(f"{ONE}/personal-data/legal-hold/", hold, "privacy_legal_hold_place", post_only=True),
    Route(f"{ONE}/personal-data/legal-hold/lift/", lift, "privacy_legal_hold_lift", post_only=True),
)
