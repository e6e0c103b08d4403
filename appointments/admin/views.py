"""The appointment admin's own pages beside Django's: booking (its add page), an appointment's history, the list as
CSV, the managers' week, and the meeting pages of meetings.backoffice (which meetings registers from its ready():
`registered_routes`), all under its sign-in, permissions and department scoping. Each address is declared once, in
`ROUTES` or in the routes registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from appointments.admin.calendar import calendar_move, calendar_page
from appointments.booking import SHOW_FREE_TIMES, BookingForm
from appointments.dashboard import range_summary
from appointments.exports import appointments_csv
from appointments.local_time import staff_zone
from appointments.models import Appointment, Department
from appointments.numbers import agent_numbers, agent_numbers_csv, chosen_range, range_bounds
from appointments.record_pdf import pdf_answer
from appointments.selectors import appointment_history
from appointments.timeline import lines
from config.registry import Registry
from ledger.services import entries_of, verify


def book(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    """The add page: an agent books an appointment (a claimant who phoned in) through the API's service, in one
    of their departments (chosen first when they have several)."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    departments = list(Department.objects.visible_to(request.user))
    chosen = next((d for d in departments if str(d.pk) == request.GET.get("department")), None)
    if chosen is None and len(departments) == 1:
        chosen = departments[0]
    context = {**model_admin.admin_site.each_context(request), "title": "Book an appointment", "subtitle": None,
               "opts": model_admin.model._meta}  # fmt: skip
    if chosen is None:
        return TemplateResponse(request, "admin/appointments/book.html", {**context, "departments": departments})
    if SHOW_FREE_TIMES in request.POST:  # the form again, as typed, with the free times of the agent now chosen
        typed = {name: request.POST.get(name) for name in request.POST if name not in ("free_time", SHOW_FREE_TIMES)}
        form = BookingForm(initial=typed, department=chosen, actor=request.user)
    else:
        form = BookingForm(request.POST or None, department=chosen, actor=request.user)
    if request.method == "POST" and form.is_bound and form.is_valid():
        booked = form.booked
        model_admin.log_addition(request, booked, [{"added": {}}])
        model_admin.message_user(request, f"Booked appointment {booked}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[booked.pk]))
    return TemplateResponse(request, "admin/appointments/book.html", {**context, "form": form, "department": chosen})


def history(model_admin: ModelAdmin[Appointment], request: HttpRequest, object_id: str) -> HttpResponse:
    """Every recorded change to the appointment, its claimant, the claimant's data and its meeting, newest first."""
    appointment = model_admin.get_object(request, object_id)
    if appointment is None or not model_admin.has_view_or_change_permission(request, appointment):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"History of appointment {appointment.reference}",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "object": appointment,
        "entries": appointment_history(appointment),
        "has_view_permission": True,
    }
    return TemplateResponse(request, "admin/appointments/appointment/history.html", context)


def timeline(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: object) -> HttpResponse:
    """The appointment's ledger in words a person reads, in the department's zone, with whether its chain verifies
    (issue 20.3), and its record as a PDF to download."""
    appointment = model_admin.get_object(request, str(appointment_id))
    if appointment is None or not model_admin.has_view_or_change_permission(request, appointment):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Timeline of appointment {appointment.reference}",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "object": appointment,
        "lines": lines(list(entries_of(appointment.pk)), appointment.zone),
        "broken": verify(appointment.pk),
        "zone_name": appointment.zone.key.replace("_", " "),
    }
    return TemplateResponse(request, "admin/appointments/appointment/timeline.html", context)


def record(model_admin: ModelAdmin[Appointment], request: HttpRequest, appointment_id: object) -> HttpResponseBase:
    """The record as a PDF (the Timeline's "Download record"), as the API's `GET …/events?format=pdf` answers it."""
    appointment = model_admin.get_object(request, str(appointment_id))
    if appointment is None or not model_admin.has_view_or_change_permission(request, appointment):
        raise PermissionDenied
    return pdf_answer(appointment)


def export_csv(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponseBase:
    """The list as it is filtered (view, filters, search, date, tenancy) as CSV, streamed row by row."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        queryset = model_admin.get_changelist_instance(request).get_queryset(request)
    except IncorrectLookupParameters:
        # A filter the list cannot apply (an unknown field, a malformed value): the list's own answer, which
        # sends the browser to the list with its error flag, rather than a 500 (issue 18.7).
        changelist = reverse("admin:appointments_appointment_changelist")
        return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")
    departments = Department.objects.visible_to(request.user)
    response = StreamingHttpResponse(appointments_csv(queryset, departments), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointments-{timezone.now():%Y%m%d-%H%M}.csv"'
    response["Cache-Control"] = "no-store"  # personal data
    return response


def _dashboard_range(request: HttpRequest) -> tuple[ZoneInfo, date, date, str | None]:
    if not request.user.has_perm("appointments.change_department"):
        raise PermissionDenied
    zone = staff_zone(request.user)
    return zone, *chosen_range(request.GET, timezone.now().astimezone(zone).date())


def dashboard(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponse:
    """The managers' numbers over a range of days (this week unless asked, issue 24.7): appointments by status per
    day, the no-show rate, the average wait, and per agent (appointments.numbers)."""
    zone, first, last, error = _dashboard_range(request)
    if error:
        messages.error(request, error)
    appointments = model_admin.get_queryset(request)
    summary = range_summary(appointments, zone, first, last)
    wait = summary["average_wait"]
    seconds = round(wait.total_seconds()) if wait is not None else 0
    this_week = request.GET.get("from") is None and request.GET.get("to") is None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "This week" if this_week else "Numbers",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "summary": summary,
        "first_day": first,
        "last_day": last,
        "zone_name": zone.key.replace("_", " "),
        "wait_minutes": seconds // 60,
        "wait_seconds": seconds % 60,
        "agents": agent_numbers(appointments, *range_bounds(first, last, zone)),
        "csv_query": urlencode({"from": first.isoformat(), "to": last.isoformat()}),
    }
    return TemplateResponse(request, "admin/appointments/dashboard.html", context)


def dashboard_csv(model_admin: ModelAdmin[Appointment], request: HttpRequest) -> HttpResponseBase:
    """The per-agent figures of the dashboard's range as CSV (a range the page would refuse: this week's)."""
    zone, first, last, _error = _dashboard_range(request)
    numbers = agent_numbers(model_admin.get_queryset(request), *range_bounds(first, last, zone))
    response = StreamingHttpResponse(agent_numbers_csv(numbers, first, last), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="agents-{first:%Y%m%d}-{last:%Y%m%d}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# A page of the appointment admin, called with the model admin, the request and its address's ids.
View = Callable[..., HttpResponseBase]


@dataclass(frozen=True)
class Route:
    """One of the admin's own pages: its address under /admin/appointments/appointment/, its view, its URL name
    (reversed as `admin:<name>`) and whether it only takes POST (the actions a page's buttons post)."""

    address: str
    view: View
    name: str
    post_only: bool = False


ONE = "<uuid:appointment_id>"
PERSON = f"{ONE}/participants/<uuid:participant_id>"

ROUTES = (
    Route("export.csv", export_csv, "appointments_appointment_export"),
    Route(f"{ONE}/timeline/", timeline, "appointments_appointment_timeline"),
    Route(f"{ONE}/record.pdf", record, "appointments_appointment_record"),
    Route("dashboard/", dashboard, "appointments_dashboard"),
    Route("calendar/", calendar_page, "appointments_calendar"),
    Route("calendar/move/", calendar_move, "appointments_calendar_move", post_only=True),
    Route("dashboard/agents.csv", dashboard_csv, "appointments_dashboard_csv"),
)

# The pages of the apps above, by the name they registered under (meetings: the waiting room, the agent's meeting
# page and the participants panel's actions, meetings.backoffice.ROUTES), registered from their AppConfig.ready():
# registering again replaces them in place. No address here overlaps another, so their order does not matter.
# The apps above appointments' pages (meetings: the meeting pages), by app (config.registry).
registered_routes: Registry[tuple[Route, ...]] = Registry()


def all_routes() -> tuple[Route, ...]:
    return (*ROUTES, *(route for routes in registered_routes for route in routes))


def urls(model_admin: ModelAdmin[Appointment]) -> list[URLPattern]:
    """`ROUTES` and the routes registered as URL patterns, each behind the admin site's sign-in (`admin_view`),
    ahead of Django's own."""

    def bind(route: Route) -> View:
        def view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            if route.post_only and request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return route.view(model_admin, request, *args, **kwargs)

        return model_admin.admin_site.admin_view(view)

    return [path(route.address, bind(route), name=route.name) for route in all_routes()]
