"""The back office's side of the desk: the notes section on an appointment's page (registered into the appointment
admin from DeskConfig.ready(), as privacy's section is) and the staff member's own calendar feed page."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse

from appointments.admin.views import ONE, Route
from appointments.local_time import staff_zone
from appointments.models import Appointment
from desk.feed import feed_address, feed_issue, feed_revoke
from desk.models import CalendarFeed
from desk.notes import NOTE_MAX_LENGTH, note_add, notes_of


def notes_panel(appointment: Appointment) -> str:
    """The section's HTML (appointments.hooks.notes_panel): the notes, oldest first, and a box to add one. Its
    button posts the change form's own CSRF token to the notes' address (formaction), as privacy's section does."""
    context = {
        "appointment": appointment,
        "notes": list(notes_of(appointment)),
        "max_length": NOTE_MAX_LENGTH,
        "erased": getattr(appointment.claimant, "erased_at", None) is not None,
    }
    return render_to_string("admin/desk/notes_panel.html", context)


def add_note(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    try:
        appointment = model_admin.get_queryset(request).get(pk=appointment_id)
    except Appointment.DoesNotExist:
        raise Http404 from None
    if not model_admin.has_change_permission(request, appointment):
        raise PermissionDenied
    try:
        note_add(appointment=appointment, text=request.POST.get("note_text", ""), actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"The note was not added: {message}")
    else:
        messages.success(request, "Note added.")
    return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[appointment.pk]) + "#notes")


def calendar_feed(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    """The staff member's own feed: whether it is on, and to make, rotate or turn it off. The address is shown once,
    in the answer to the POST that made it (only its digest is kept), never cached."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    user = cast(User, request.user)  # the admin site lets in only a signed-in staff member
    address = None
    if request.method == "POST":
        if request.POST.get("action") == "off":
            feed_revoke(user=user)
            messages.success(request, "Your calendar feed is off: its address no longer works.")
            return HttpResponseRedirect(reverse("admin:desk_calendar_feed"))
        address = feed_address(feed_issue(user=user))
    feed = CalendarFeed.objects.filter(user=user).first()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "My calendar feed",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "feed": feed,
        "address": address,
        "zone": staff_zone(user).key,
    }
    response = TemplateResponse(request, "admin/desk/calendar_feed.html", context)
    response["Cache-Control"] = "no-store"  # the address is a secret
    return response


ROUTES = (
    Route(f"{ONE}/notes/", add_note, "desk_note_add", post_only=True),
    Route("my-calendar/", calendar_feed, "desk_calendar_feed"),
)
