"""The calendar in the back office (issue 24.1): the department's day (a column per agent) or an agent's week (a
column per day) in the department's zone, with previous and next, a date picker and today; a block dragged (or moved
by the keyboard) to another time or agent is moved by `appointment_update`, the API's service, whose refusal (the
clash, the rules) is answered as text for the page to show beside the block it puts back. On a phone the same page
shows an agenda list instead of the grid (static/appointments/calendar.css)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from appointments.admin.filters import DayFilter
from appointments.calendar import DAY, SLOT_MINUTES, WEEK, Calendar, block_label, calendar_of, department_agents
from appointments.live import live_version
from appointments.local_time import local_day, local_moment, local_span, local_week, staff_zone
from appointments.models import Appointment, Department
from appointments.services import appointment_update
from appointments.words import staff_name


def _day(value: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback


def _query(base: dict[str, str], **changes: Any) -> str:
    return "?" + urlencode({key: value for key, value in {**base, **changes}.items() if value})


def _choose(request: HttpRequest) -> tuple[list[Department], Department | None, str, Any, list[Any]]:
    departments = list(Department.objects.visible_to(request.user).order_by("name"))
    wanted = request.GET.get("department")
    department = next((d for d in departments if str(d.pk) == wanted), departments[0] if departments else None)
    view = WEEK if request.GET.get("view") == WEEK else DAY
    agents = list(department_agents(department)) if department is not None else []
    agent = next((a for a in agents if str(a.pk) == request.GET.get("agent")), None)
    if view == WEEK and agent is None:  # a week is an agent's: the viewer's own when they are one, else the first
        agent = next((a for a in agents if a.pk == request.user.pk), agents[0] if agents else None)
    return departments, department, view, agent, agents


def calendar_page(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    departments, department, view, agent, agents = _choose(request)
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": "Calendar",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "is_nav_sidebar_enabled": False,
        "departments": departments,
        "department": department,
    }
    if department is None:
        return TemplateResponse(request, "admin/appointments/calendar.html", context)
    now = timezone.now()
    calendar = calendar_of(
        model_admin.get_queryset(request),
        department=department,
        view=view,
        day=_day(request.GET.get("date"), now.astimezone(ZoneInfo(department.time_zone)).date()),
        agent=agent,
        now=now,
    )
    context |= _calendar_context(model_admin.get_queryset(request), calendar, agents, view, now)
    template = "admin/appointments/calendar_body.html" if request.GET.get("fragment") == "1" else None
    response = TemplateResponse(request, template or "admin/appointments/calendar.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _calendar_context(
    queryset: QuerySet[Appointment], calendar: Calendar, agents: list[Any], view: str, now: datetime
) -> dict[str, Any]:
    department = calendar.department
    step = timedelta(days=7 if view == WEEK else 1)
    base = {"department": str(department.pk), "view": view, "agent": str(calendar.agent.pk) if calendar.agent else ""}
    last = calendar.day + timedelta(days=6 if view == WEEK else 0)
    span_start = datetime.combine(calendar.day, time(0), tzinfo=calendar.zone)
    span_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=calendar.zone)
    live_query = urlencode({"start": span_start.isoformat(), "end": span_end.isoformat()})
    url = reverse("admin:appointments_calendar")
    if view == WEEK:
        heading = f"Week of {calendar.day:%a} {calendar.day.day} {calendar.day:%b %Y}"
    else:
        heading = f"{calendar.day:%A} {calendar.day.day} {calendar.day:%B %Y}"
    return {
        "calendar": calendar,
        "agents": agents,
        "view": view,
        "heading": heading,
        "zone_name": calendar.zone.key.replace("_", " "),
        "slot_minutes": SLOT_MINUTES,
        "previous_url": url + _query(base, date=(calendar.day - step).isoformat()),
        "next_url": url + _query(base, date=(calendar.day + step).isoformat()),
        "today_url": url + _query(base),
        "day_url": url + _query(base, view=DAY, agent="", date=calendar.day.isoformat()),
        "week_url": url + _query(base, view=WEEK, date=calendar.day.isoformat()),
        "fragment_url": url + _query(base, date=calendar.day.isoformat(), fragment="1"),
        "live_url": reverse("admin:appointments_live") + "?" + live_query,
        "live_version": live_version(queryset, span_start, span_end, now=now),
        "move_url": reverse("admin:appointments_calendar_move"),
        "live_seconds": settings.LIVE_POLL_SECONDS,
    }


def calendar_move(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    """A block moved to another time (the day and wall-clock time in the department's zone) and, when `agent` is
    posted, another agent ("" for none): through `appointment_update`, answered as JSON. A refusal the service
    decided (the clash, a time the clocks skip, a final appointment) is an answer, not a failure: 200 with
    `moved: false` and its messages, nothing written (a 4xx would be a console error in the agent's browser for an
    everyday outcome); a request the page could not have made (no day or time) is 422."""
    pk = _uuid(request.POST.get("appointment"))
    appointment = model_admin.get_queryset(request).select_related("department").filter(pk=pk).first() if pk else None
    if appointment is None or not model_admin.has_change_permission(request, appointment):
        raise PermissionDenied
    zone = appointment.zone
    data: dict[str, Any] = {}
    try:
        day = date.fromisoformat(request.POST.get("date", ""))
        clock = time.fromisoformat(request.POST.get("time", ""))
        moment = local_moment(day, clock, zone)
        if moment != appointment.appointment_at:
            data["appointment_at"] = moment
        if "agent" in request.POST:
            wanted = request.POST["agent"]
            agent_id = int(wanted) if wanted else None
            if agent_id != appointment.agent_id:
                data["agent_id"] = agent_id
        if data:
            appointment = appointment_update(appointment=appointment, data=data, actor=request.user)
    except ValidationError as exc:
        return JsonResponse({"moved": False, "errors": _messages(exc)})
    except ValueError:
        return JsonResponse({"moved": False, "errors": ["Choose a day and a time."]}, status=422)
    if data:
        model_admin.log_change(request, appointment, "Moved in the calendar.")
    where = f" with {staff_name(appointment.agent)}" if appointment.agent else ""
    span = local_span(appointment.appointment_at, appointment.ends_at, zone)
    said = f"Moved {appointment.reference} to {span}{where}."
    # The block's own label, so the page shows the new time at once: its rows are drawn again only when nobody is
    # moving a block (live.js), and an agent may go on to move the next one straight away.
    answer = {"moved": bool(data), "message": said if data else "Not moved: the same time and agent."}
    return JsonResponse(answer | {"label": block_label(appointment, zone)})


def _uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return None


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(message) for messages in exc.message_dict.values() for message in messages]
    return [str(message) for message in exc.messages]


def live_context(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> dict[str, Any]:
    """What today's list needs to be live (issue 24.2): the endpoint, its span (this week for the week's view, else the
    staff member's today) and the version the rows are drawn at."""
    now = timezone.now()
    zone = staff_zone(request.user)
    start, end = local_week(now, zone) if DayFilter.current(request) == "week" else local_day(now, zone)
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    return {
        "live_url": reverse("admin:appointments_live") + "?" + query,
        "live_version": live_version(model_admin.get_queryset(request), start, end, now=now),
        "live_seconds": settings.LIVE_POLL_SECONDS,
    }
