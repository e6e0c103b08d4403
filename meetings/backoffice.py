"""The meeting in the back office: the agent's meeting page, starting a session, the waiting room (where the agent
also lets each interpreter and guest in), and the participants' links (invite a guest, admit, revoke a link,
unlock an identity check).

Wired into the appointment admin's URLs (so they share its sign-in, permissions and department scoping); every
change goes through the services.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from appointments.admin.views import ONE, PERSON, Route
from appointments.local_time import local_label
from appointments.models import FINAL_STATUSES, MAX_DURATION, Appointment, Status
from appointments.sessions import appointment_session_end, appointment_session_extend, appointment_session_start
from meetings.identity import participant_unlock_identity
from meetings.live import live
from meetings.models import Participant, Role
from meetings.selectors import participants_waiting_to_be_let_in
from meetings.services import (
    agent_seen,
    display_name,
    participant_admit,
    participant_invite_guest,
    participant_revoke,
    participant_url,
    recording_allowed,
    recording_declined_by,
)
from meetings.video import embedding_headers, iframe_options
from meetings.waiting import participant_send_message
from meetings.waiting_room import waiting_room


def _appointment(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> Appointment:
    """The appointment if the staff member may change it (their departments), else a 404 as for any other."""
    try:
        appointment = (
            model_admin.get_queryset(request).select_related("department", "claimant", "meeting").get(pk=appointment_id)
        )
    except (Appointment.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if not model_admin.has_change_permission(request, appointment):
        raise PermissionDenied
    return appointment


def _change_page(appointment: Appointment) -> str:
    return reverse("admin:appointments_appointment_change", args=[appointment.pk])


def agent_meeting(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """The agent's meeting page: the embedded meeting as moderator; after the call, the agent's custom redirect
    (when the appointment uses one) or back to the appointment."""
    appointment = _appointment(model_admin, request, appointment_id)
    if appointment.status in FINAL_STATUSES:
        messages.error(request, f"The appointment is {appointment.get_status_display().lower()}: no meeting to join.")
        return HttpResponseRedirect(_change_page(appointment))
    everyone = list(appointment.participants.all())
    agent = next((p for p in everyone if p.role == Role.AGENT and p.revoked_at is None), None)
    if agent is None:
        raise Http404
    agent.appointment = appointment
    user = request.user
    assert isinstance(user, User)  # signed in: admin_view let the request through
    agent.display_name = user.get_full_name() or user.get_username()
    now = timezone.now()
    agent_seen(appointment=appointment, now=now)
    context = {
        "appointment": appointment,
        "meeting": iframe_options(agent, recording=recording_allowed(appointment, everyone), now=now),
        "video_script": f"{settings.VIDEO_BASE_URL}/external_api.js",
        "after_url": _after_call(appointment),
        "change_url": _change_page(appointment),
        "in_progress": appointment.status == Status.IN_PROGRESS,
        "overrun": appointment.status == Status.IN_PROGRESS and appointment.ends_at < now,
        "ends_label": local_label(appointment.ends_at, appointment.zone),
        "extend_to": min(appointment.duration_in_minutes + EXTEND_MINUTES, MAX_DURATION),
        "extend_minutes": EXTEND_MINUTES,
        "can_extend": appointment.duration_in_minutes < MAX_DURATION,
        "poll_seconds": settings.STATUS_POLL_SECONDS,
        "messages": messages.get_messages(request),
        "declined_recording": appointment.features_call_recording_enable
        and not recording_allowed(appointment, everyone),
        # Let in (or waiting) and said no: the agent decides, rather than the call silently not being recorded.
        "declined_by": [display_name(p) for p in recording_declined_by(appointment, everyone) if p.admitted_at],
    }
    response = embedding_headers(render(request, "meetings/agent_meeting.html", context))
    # Its address holds no token: its forms (extend, end the session) need their Origin for the CSRF check, which a
    # no-referrer page sends as "null"; same-origin still sends nothing to the video platform.
    response["Referrer-Policy"] = "same-origin"
    return response


# What "Extend" on the agent's meeting page adds to a session that runs over (issue 17.3).
EXTEND_MINUTES = 15


def _after_call(appointment: Appointment) -> str:
    """Where the agent goes when the call ends: their custom redirect when the appointment uses one, else back to
    the appointment."""
    if appointment.use_custom_post_call_redirect and appointment.custom_agent_post_call_redirect_url:
        return appointment.custom_agent_post_call_redirect_url
    return _change_page(appointment)


def _meeting_page(appointment: Appointment) -> str:
    return reverse("admin:appointments_appointment_meeting", args=[appointment.pk])


def meeting_heartbeat(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """The agent's meeting page beats while it is open (meeting.js), as the participants' pages poll."""
    appointment = _appointment(model_admin, request, appointment_id)
    agent_seen(appointment=appointment, now=timezone.now())
    return HttpResponse(status=204)


def meeting_waiting(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """Who waits to be let in, for the agent's meeting page (meeting.js polls it): an interpreter or a guest who
    arrives during the call is seen, and admitted, without leaving it (issue 17.9)."""
    appointment = _appointment(model_admin, request, appointment_id)
    people = participants_waiting_to_be_let_in(appointment)
    recording = appointment.features_call_recording_enable
    waiting = [
        {
            "name": display_name(p),
            "role": Role(p.role).label.lower(),
            "declined_recording": recording and p.recording_consent is False,
            "admit_url": reverse("admin:appointments_participant_admit", args=[appointment.pk, p.pk]),
        }
        for p in people
    ]
    response = JsonResponse({"waiting": waiting})
    response["Cache-Control"] = "no-store"
    return response


def extend_session(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """The agent extends a session in progress (issue 17.3) to the length the page offered: through the service,
    with its rules (extend only, the agent's other appointments must not clash). Posting the length, not "plus 15",
    makes a second click or a second tab harmless."""
    appointment = _appointment(model_admin, request, appointment_id)
    try:
        minutes = int(request.POST.get("duration_in_minutes", ""))
    except ValueError:
        messages.error(request, "Choose how long the appointment should last.")
        return HttpResponseRedirect(_meeting_page(appointment))
    try:
        updated = appointment_session_extend(appointment=appointment, minutes=minutes, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"The appointment now lasts {updated.duration_in_minutes} minutes.")
    return HttpResponseRedirect(_meeting_page(appointment))


def end_session(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """The agent ends the session from the meeting page (also when the video could not load)."""
    appointment = _appointment(model_admin, request, appointment_id)
    try:
        appointment_session_end(appointment=appointment, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
        return HttpResponseRedirect(_change_page(appointment))
    messages.success(request, f"The session of {appointment.reference} has ended.")
    return HttpResponseRedirect(_after_call(appointment))


def start_session(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    """The agent admits the claimant: the session starts (`in_progress`) and the agent's meeting opens."""
    appointment = _appointment(model_admin, request, appointment_id)
    try:
        appointment_session_start(appointment=appointment, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
        return HttpResponseRedirect(request.POST.get("next") or reverse("admin:appointments_waiting_room"))
    return HttpResponseRedirect(reverse("admin:appointments_appointment_meeting", args=[appointment.pk]))


def invite_guest(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str) -> HttpResponse:
    appointment = _appointment(model_admin, request, appointment_id)
    try:
        guest = participant_invite_guest(
            appointment=appointment, display_name=request.POST.get("guest_display_name", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{guest.display_name} is invited. Their link: {participant_url(guest)}")
    return HttpResponseRedirect(_change_page(appointment) + "#participants")


def admit(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str, participant_id: str
) -> HttpResponse:
    """The agent lets an interpreter or a guest in (the waiting room's Admit, or the appointment's page)."""
    appointment = _appointment(model_admin, request, appointment_id)
    participant = _participant_of(appointment, participant_id)
    failed = False
    try:
        admitted = participant_admit(participant=participant, actor=request.user)
    except ValidationError as exc:
        failed = True
        messages.error(request, " ".join(exc.messages))
    else:
        note = ""
        if appointment.features_call_recording_enable and admitted.recording_consent is False:
            note = " They said no to the recording: do not record the call while they are in it."
        messages.success(
            request, f"{display_name(admitted)} ({admitted.get_role_display().lower()}) is admitted.{note}"
        )
    if request.POST.get("from") == "meeting":  # meeting.js, so the agent stays in the call
        stored = list(messages.get_messages(request))
        return JsonResponse({"message": " ".join(str(m) for m in stored)}, status=422 if failed else 200)
    if request.POST.get("from") == "waiting-room":
        return HttpResponseRedirect(reverse("admin:appointments_waiting_room"))
    return HttpResponseRedirect(_change_page(appointment) + "#participants")


def _participant_of(appointment: Appointment, participant_id: str) -> Participant:
    try:
        return Participant.objects.get(pk=participant_id, appointment=appointment)
    except (Participant.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def send_message(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str, participant_id: str
) -> HttpResponse:
    """The waiting room's message to someone waiting (issue 22.6): a prepared one or a short text."""
    appointment = _appointment(model_admin, request, appointment_id)
    participant = _participant_of(appointment, participant_id)
    participant.appointment = appointment
    try:
        participant_send_message(
            participant=participant,
            actor=request.user,
            prepared=request.POST.get("prepared", ""),
            text=request.POST.get("text", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Your message to {display_name(participant)} is sent.")
    return HttpResponseRedirect(reverse("admin:appointments_waiting_room"))


def revoke_link(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str, participant_id: str
) -> HttpResponse:
    appointment = _appointment(model_admin, request, appointment_id)
    participant = _participant_of(appointment, participant_id)
    if participant.role != Role.GUEST:
        messages.error(request, "Only a guest's link can be revoked here.")
    else:
        participant_revoke(participant=participant, actor=request.user)
        messages.success(request, f"The link of {participant.display_name} is revoked.")
    return HttpResponseRedirect(_change_page(appointment) + "#participants")


def unlock_identity(
    model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: str, participant_id: str
) -> HttpResponse:
    appointment = _appointment(model_admin, request, appointment_id)
    participant = _participant_of(appointment, participant_id)
    participant_unlock_identity(participant=participant, actor=request.user)
    messages.success(request, "The link is unlocked: the claimant can enter their date of birth again.")
    return HttpResponseRedirect(_change_page(appointment) + "#participants")


# The meeting pages, under the appointment admin's addresses, sign-in, permissions and scoping
# (appointments.admin.views.registered_routes, from MeetingsConfig.ready()).
ROUTES = (
    Route("waiting-room/", waiting_room, "appointments_waiting_room"),
    Route("live/", live, "appointments_live"),
    Route(f"{ONE}/meeting/", agent_meeting, "appointments_appointment_meeting"),
    Route(f"{ONE}/start/", start_session, "appointments_appointment_start", post_only=True),
    Route(f"{ONE}/meeting/waiting/", meeting_waiting, "appointments_appointment_meeting_waiting"),
    Route(f"{ONE}/meeting/heartbeat/", meeting_heartbeat, "appointments_appointment_heartbeat", post_only=True),
    Route(f"{ONE}/meeting/extend/", extend_session, "appointments_appointment_extend", post_only=True),
    Route(f"{ONE}/meeting/end/", end_session, "appointments_appointment_end", post_only=True),
    Route(f"{ONE}/guests/", invite_guest, "appointments_appointment_guest", post_only=True),
    Route(f"{PERSON}/admit/", admit, "appointments_participant_admit", post_only=True),
    Route(f"{PERSON}/message/", send_message, "appointments_participant_message", post_only=True),
    Route(f"{PERSON}/revoke/", revoke_link, "appointments_participant_revoke", post_only=True),
    Route(f"{PERSON}/unlock/", unlock_identity, "appointments_participant_unlock", post_only=True),
)
