"""The back office's waiting room (issue 22.7): today's appointments of the staff member's departments, whoever waits
first, each waiting person's language, device check verdict and how long they have waited, with a message to send
them; showing someone here is what tells their page that staff know they are waiting (issue 22.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin import ModelAdmin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info

from appointments.live import live_version
from appointments.local_time import local_clock, local_day, local_label, staff_zone
from appointments.models import LIVE_STATUSES, Appointment, Status
from meetings.devices import VERDICT_LABELS, device_verdict
from meetings.models import Participant, Role
from meetings.participants_panel import readiness
from meetings.selectors import appointments_of_the_day
from meetings.services import admitted_one_by_one, display_name, join_window, still_waiting, waiting_for_admission
from meetings.services.journey import participants_release_absent
from meetings.waiting import PREPARED_MESSAGES, claimant_language, participants_shown_to_staff


def language_name(code: str) -> str:
    """A language's name as staff read it ("Welsh"), or the code itself when Django does not know it."""
    try:
        return str(get_language_info(code)["name"])
    except KeyError:
        return code


def _language(person: Participant, appointment: Appointment) -> str:
    if person.role == Role.CLAIMANT:
        return language_name(claimant_language(appointment))
    if person.role == Role.INTERPRETER:
        return appointment.interpreter_language or ""
    return ""


def _waited_minutes(person: Participant, now: datetime) -> int | None:
    if person.joined_waiting_at is None or person.left_at is not None or person.admitted_at is not None:
        return None
    return max(0, int((now - person.joined_waiting_at).total_seconds() // 60))


def _person(person: Participant, appointment: Appointment, now: datetime) -> dict[str, Any]:
    """One person's line of a live appointment's row (a row that is over shows nobody's readiness)."""
    verdict = device_verdict(person)
    return {
        "participant": person,
        "name": display_name(person),
        "role": Role(person.role).label,
        "readiness": readiness(person),
        "one_by_one": admitted_one_by_one(person),
        "can_admit": waiting_for_admission(person),
        "in_meeting": person.admitted_at is not None and not person.left_at,
        "language": _language(person, appointment),
        "verdict": VERDICT_LABELS[verdict] if verdict else "",
        "verdict_key": verdict or "",
        "waited_minutes": _waited_minutes(person, now),
        "can_message": still_waiting(person),
    }


def _shown_at(moment: datetime, appointment: Appointment, start: datetime, end: datetime) -> str:
    """A time of the appointment's row in its department's zone, with its date when it is not in the staff member's
    today (`start` to `end`)."""
    return (local_clock if start <= moment < end else local_label)(moment, appointment.zone)


def waiting_room_rows(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> list[dict[str, Any]]:
    """Today's appointments of the staff member's departments, and any of theirs live now whatever its day (a
    claimant waiting before midnight for an appointment after it), waiting ones first, each with who is waiting; the
    waiting people shown are noted as seen by staff."""
    now = timezone.now()
    participants_release_absent(now=now)
    start, end = local_day(now, staff_zone(request.user))  # the staff member's today, in their department's zone
    rows: list[dict[str, Any]] = []
    shown: list[Participant] = []
    for appointment in appointments_of_the_day(model_admin.get_queryset(request), start, end, now=now):
        people = list(appointment.participants.all())
        for person in people:
            person.appointment = appointment
        waiting = [p for p in people if p.joined_waiting_at and not p.left_at and p.role != Role.AGENT]
        still = [p for p in waiting if still_waiting(p)]
        shown.extend(still)
        open_to_admit = appointment.status in LIVE_STATUSES
        to_start = appointment.status in (Status.SCHEDULED, Status.WAITING)
        window = join_window(appointment)
        rows.append(
            {
                "appointment": appointment,
                "waiting": waiting,
                # When the earliest of those still waiting came: not of anyone let in, nor of a session ended.
                "since": min((p.joined_waiting_at for p in still if p.joined_waiting_at), default=None),
                # Each interpreter and guest waiting is admitted by the agent, one by one (issue 17.9).
                "to_admit": open_to_admit and any(waiting_for_admission(p) for p in people),
                # Who is ready, while it is live: a cancelled row said its claimant's "device not checked".
                "people": [_person(p, appointment, now) for p in people if p.role != Role.AGENT]
                if open_to_admit
                else [],
                "can_start": to_start and window.is_open(now),
                # Before its window opens, when Start will be there (a walk found the row saying nothing of it).
                "opens": _shown_at(window.opens_at, appointment, start, end)
                if to_start and now < window.opens_at
                else "",
                "can_join": appointment.status == Status.IN_PROGRESS,
                # Its time, with its date when it is not today's (an appointment live across midnight).
                "when": _shown_at(appointment.appointment_at, appointment, start, end),
            }
        )
    participants_shown_to_staff(shown, now=now)
    # Whoever waits comes first: a claimant for the start, an interpreter or a guest to be let in.
    rows.sort(
        key=lambda row: (
            row["appointment"].status != Status.WAITING and not row["to_admit"],
            row["appointment"].appointment_at,
        )
    )
    return rows


def waiting_count(rows: list[dict[str, Any]]) -> int:
    """How many people wait for staff (for the start or to be let in): the number in the tab's title."""
    return sum(1 for row in rows for person in row["people"] if person["can_message"])


def waiting_room(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    rows = waiting_room_rows(model_admin, request)
    now = timezone.now()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Waiting room",  # backoffice.js puts the count in front, in the tab's title only
        "subtitle": None,
        "opts": model_admin.model._meta,
        "rows": rows,
        "waiting_count": waiting_count(rows),
        "prepared_messages": list(PREPARED_MESSAGES.items()),  # in English, the back office's language
        "now": now,
        "fragment": request.GET.get("fragment") == "1",
        # Live (issue 24.2): static/appointments/live.js draws the rows again when the day's version changes, and at
        # least every minute (the minutes waited).
        "live_url": reverse("admin:appointments_live"),
        "live_version": live_version(
            model_admin.get_queryset(request), *local_day(now, staff_zone(request.user)), now=now
        ),
        "live_seconds": settings.LIVE_POLL_SECONDS,
    }
    template = (
        "admin/appointments/waiting_room_rows.html" if context["fragment"] else "admin/appointments/waiting_room.html"
    )
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response
