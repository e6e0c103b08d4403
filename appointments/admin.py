"""The staff back office: agents run their day here, under the same rules as the API.

Every change to an appointment goes through `appointments.services` (the change form, the actions), so a rule
cannot be skipped by editing here; an invalid change shows the service's messages as form errors and saves
nothing. Staff see and change only their departments' records; superusers see all.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from appointments.booking import BookingForm
from appointments.dashboard import week_summary
from appointments.exports import appointments_csv
from appointments.forms import CLAIMANT_FIELDS, AppointmentAdminForm, CancelForm, ClaimantDataFieldForm, staff_name
from appointments.local_time import local_day, local_label, local_span, local_week, staff_zone
from appointments.models import (
    FEATURE_FIELDS,
    FEATURE_LABELS,
    FINAL_STATUSES,
    Appointment,
    AppointmentQuerySet,
    Department,
    Status,
)
from appointments.selectors import appointment_history, claimant_data_items
from appointments.services import appointment_cancel, appointment_follow_up, appointment_update
from claimants.models import ClaimantDataField
from claimants.services import claimant_data_field_added, claimant_data_field_change
from config.admin import CappedCountPaginator, scoped
from meetings import backoffice
from meetings.backoffice import participants_context
from meetings.services import join_window

# --- appointments -----------------------------------------------------------------------------------------------


class DepartmentFilter(admin.SimpleListFilter):
    """The staff member's departments, without scanning the appointments to find which ones occur."""

    title = "department"
    parameter_name = "department"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(d.pk), d.name) for d in Department.objects.visible_to(request.user)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(department_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


class DayFilter(admin.SimpleListFilter):
    """What the list shows: today (the default, in the staff member's zone), this week, who waits now, what needs
    attention, or everything. A search looks through everything unless a view is chosen."""

    title = "show"
    parameter_name = "show"
    DEFAULT = "today"
    VIEWS = (
        ("mine", "Mine"),
        ("today", "Today"),
        ("week", "This week"),
        ("waiting", "Waiting now"),
        ("attention", "Needs attention"),
        ("all", "All"),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request  # choices() needs it (a search box's query decides the default)
        super().__init__(request, *args, **kwargs)

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return self.VIEWS

    @classmethod
    def current(cls, request: HttpRequest) -> str:
        """The view asked for; without one, today when the list is opened as it is, and everything as soon as a
        filter, a search or the date hierarchy narrows it."""
        value = request.GET.get(cls.parameter_name)
        if value in dict(cls.VIEWS):
            return str(value)
        narrowed = set(request.GET) - {"o", "p", "_changelist_filters", "_to_field", "_popup"}
        return "all" if narrowed else cls.DEFAULT

    def choices(self, changelist: Any) -> Any:
        current = self.current(self.request)
        for key, label in self.VIEWS:
            yield {
                "selected": current == key,
                "query_string": changelist.get_query_string({self.parameter_name: key}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return day_view(queryset, self.current(request), staff_zone(request.user), timezone.now(), request.user)


def day_view(queryset: QuerySet[Any], view: str, zone: Any, now: Any, user: Any = None) -> QuerySet[Any]:
    live = [Status.SCHEDULED, Status.WAITING]
    if view == "mine":  # from today on: what is still to come for this agent
        start, _end = local_day(now, zone)
        return queryset.filter(agent=user, appointment_at__gte=start)
    if view == "today":
        start, end = local_day(now, zone)
        return queryset.filter(appointment_at__gte=start, appointment_at__lt=end)
    if view == "week":
        start, end = local_week(now, zone)
        return queryset.filter(appointment_at__gte=start, appointment_at__lt=end)
    if view == "waiting":
        return queryset.filter(status=Status.WAITING)
    if view == "attention":
        # Late (its time passed with nobody started), a link locked by wrong dates of birth, missed by the
        # organisation (the claimant waited and nobody admitted them) until someone has followed it up, or a
        # session running past its end that nobody ended (issue 17.3; completed by itself once nobody is there).
        late = Q(status__in=live, appointment_at__lt=now - timedelta(minutes=5))
        locked = Q(status__in=[*live, Status.IN_PROGRESS], participants__identity_locked_at__isnull=False)
        missed = Q(outcome__isnull=False, followed_up_at__isnull=True)
        overrun = Q(status=Status.IN_PROGRESS, meeting__end_date__lt=now)
        return queryset.filter(late | locked | missed | overrun).distinct()
    return queryset


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    form = AppointmentAdminForm

    class Media:
        js = ["meetings/backoffice.js"]
        css = {"all": ["meetings/backoffice.css"]}

    list_display = [
        "when",
        "status_badge",
        "claimant_name",
        "agent_name",
        "reference",
        "department",
        "interpreter",
        "length",
        "join",
    ]
    list_display_links = ["when", "reference"]
    list_filter = [DayFilter, "status", DepartmentFilter, "is_interpreter_needed"]
    list_select_related = ["department", "claimant", "agent"]
    search_fields = ["reference", "claimant__name", "claimant__email", "claimant__phone_number"]
    search_help_text = "Reference, claimant name, email or phone (+44…)."
    date_hierarchy = "appointment_at"
    ordering = ["appointment_at", "id"]
    show_full_result_count = False  # one count per page view, never a second one over the whole table
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = [
        "mark_waiting",
        "start_session",
        "end_session",
        "cancel_appointments",
        "mark_no_show",
        "mark_followed_up",
    ]
    readonly_fields = [
        "reference",
        "created",
        "cancelled",
        "session_started",
        "session_ended",
        "meeting_details",
        "participants_panel",
        "recent_history",
        "outcome_note",
    ]

    def get_urls(self) -> list[Any]:
        def wrap(view: Any, *, post_only: bool = False) -> Any:
            def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                if post_only and request.method != "POST":
                    return HttpResponseNotAllowed(["POST"])
                return view(self, request, *args, **kwargs)

            return self.admin_site.admin_view(wrapper)

        one = "<uuid:appointment_id>"
        person = f"{one}/participants/<uuid:participant_id>"
        return [
            path("waiting-room/", wrap(backoffice.waiting_room), name="appointments_waiting_room"),
            path("export.csv", self.admin_site.admin_view(self.export_csv), name="appointments_appointment_export"),
            path("dashboard/", self.admin_site.admin_view(self.dashboard), name="appointments_dashboard"),
            path(f"{one}/meeting/", wrap(backoffice.agent_meeting), name="appointments_appointment_meeting"),
            path(
                f"{one}/start/", wrap(backoffice.start_session, post_only=True), name="appointments_appointment_start"
            ),
            path(
                f"{one}/meeting/waiting/",
                wrap(backoffice.meeting_waiting),
                name="appointments_appointment_meeting_waiting",
            ),
            path(
                f"{one}/meeting/heartbeat/",
                wrap(backoffice.meeting_heartbeat, post_only=True),
                name="appointments_appointment_heartbeat",
            ),
            path(
                f"{one}/meeting/extend/",
                wrap(backoffice.extend_session, post_only=True),
                name="appointments_appointment_extend",
            ),
            path(
                f"{one}/meeting/end/",
                wrap(backoffice.end_session, post_only=True),
                name="appointments_appointment_end",
            ),
            path(
                f"{one}/guests/", wrap(backoffice.invite_guest, post_only=True), name="appointments_appointment_guest"
            ),
            path(
                f"{person}/admit/",
                wrap(backoffice.admit, post_only=True),
                name="appointments_participant_admit",
            ),
            path(
                f"{person}/revoke/",
                wrap(backoffice.revoke_link, post_only=True),
                name="appointments_participant_revoke",
            ),
            path(
                f"{person}/unlock/",
                wrap(backoffice.unlock_identity, post_only=True),
                name="appointments_participant_unlock",
            ),
            *super().get_urls(),
        ]

    def get_fieldsets(self, request: HttpRequest, obj: Appointment | None = None) -> Any:
        data_fields = []
        if obj is not None:
            data_fields = [f"data_{item.pk}" for item in claimant_data_items(obj)]
        # What an agent needs first: the time, the claimant, joining, the status; the rest below, the record folded.
        return [
            (
                None,
                {
                    "fields": [
                        "appointment_at",
                        "duration_in_minutes",
                        "claimant_name",
                        "meeting_details",
                        "status",
                        *(["outcome_note"] if obj is not None and obj.outcome else []),
                        "agent",
                        "cancellation_reason",
                    ]
                },
            ),
            ("Claimant", {"fields": [f"claimant_{name}" for name in CLAIMANT_FIELDS if name != "name"]}),
            ("Claimant data", {"fields": data_fields}),
            ("Interpreter", {"fields": ["is_interpreter_needed", "interpreter_language"]}),
            ("Participants", {"fields": ["participants_panel"]}),
            (
                "Record",
                {
                    "fields": [
                        "reference",
                        "department",
                        "created",
                        "cancelled",
                        "session_started",
                        "session_ended",
                    ],
                    "classes": ["collapse"],
                },
            ),
            ("Features", {"fields": list(FEATURE_FIELDS), "classes": ["collapse"]}),
            (
                "After the call",
                {
                    "fields": [
                        "use_custom_post_call_redirect",
                        "custom_user_post_call_redirect_url",
                        "custom_agent_post_call_redirect_url",
                    ],
                    "classes": ["collapse"],
                },
            ),
            ("History", {"fields": ["recent_history"]}),
        ]

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        # The form shows and reads its time in the appointment's department's zone (Django's current time zone).
        try:
            pk = uuid.UUID(str(object_id))
        except ValueError:
            return super().changeform_view(request, object_id, form_url, extra_context)
        department = self.get_queryset(request).filter(pk=pk).values_list("department__time_zone").first()
        if department is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(department[0]):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # inside the zone: the template shows the times of the form
            return response

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # Data item fields are added per appointment in the form's __init__, not declared on the model form.
        if "fields" in kwargs and kwargs["fields"] is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if not name.startswith("data_")]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The joins the change page, its form and the history read, so get_object is one query.
        queryset = super().get_queryset(request).select_related("department", "claimant", "meeting")
        return scoped(queryset, request, "department")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        # The API's search (indexed, one table at a time) rather than the admin's OR across the claimant join.
        return cast(AppointmentQuerySet, queryset).search(search_term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Agents book too (a claimant who phoned in), through the API's service: the booking form below.
        return request.user.has_perm("appointments.change_appointment")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        departments = list(Department.objects.visible_to(request.user))
        chosen = next((d for d in departments if str(d.pk) == request.GET.get("department")), None)
        if chosen is None and len(departments) == 1:
            chosen = departments[0]
        context = {**self.admin_site.each_context(request), "title": "Book an appointment", "subtitle": None,
                   "opts": self.model._meta}  # fmt: skip
        if chosen is None:
            return TemplateResponse(request, "admin/appointments/book.html", {**context, "departments": departments})
        form = BookingForm(request.POST or None, department=chosen, actor=request.user)
        if request.method == "POST" and form.is_valid():
            booked = form.booked
            self.log_addition(request, booked, [{"added": {}}])
            self.message_user(request, f"Booked appointment {booked}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[booked.pk]))
        return TemplateResponse(
            request, "admin/appointments/book.html", {**context, "form": form, "department": chosen}
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # appointments are cancelled, never deleted: the record and its history stay

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # the form's clean() already saved through appointment_update

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        titles = {
            "mine": "My appointments",
            "today": "Today",
            "week": "This week",
            "waiting": "Waiting now",
            "attention": "Needs attention",
        }
        title = titles.get(DayFilter.current(request), "Appointments")
        # The list is the agent's desk: Django's sidebar of every model would push the Join column out of a 1366 px
        # window (issue 17.11); the header's links (Today, Waiting room) and the breadcrumbs lead everywhere else.
        context = {"title": title, "is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, context)

    # The record's times, in the department's zone and the page's one format (the change page's stamps).
    @admin.display(description="created")
    def created(self, obj: Appointment) -> str:
        return local_label(obj.created_at, obj.zone)

    @admin.display(description="cancelled")
    def cancelled(self, obj: Appointment) -> str:
        return local_label(obj.cancelled_at, obj.zone) if obj.cancelled_at else "—"

    @admin.display(description="session started")
    def session_started(self, obj: Appointment) -> str:
        return local_label(obj.session_started_at, obj.zone) if obj.session_started_at else "—"

    @admin.display(description="session ended")
    def session_ended(self, obj: Appointment) -> str:
        return local_label(obj.session_ended_at, obj.zone) if obj.session_ended_at else "—"

    @admin.display(description="agent", ordering="agent__first_name")
    def agent_name(self, obj: Appointment) -> str:
        return "—" if obj.agent is None else staff_name(obj.agent)

    @admin.display(description="length", ordering="duration_in_minutes")
    def length(self, obj: Appointment) -> str:
        return f"{obj.duration_in_minutes} min"

    def get_ordering(self, request: HttpRequest) -> Any:
        # A day's list puts what is still to come first; the whole table keeps the indexed order.
        if DayFilter.current(request) != "all":
            finished = Case(When(status__in=list(FINAL_STATUSES), then=Value(1)), default=Value(0))
            return [finished.asc(), "appointment_at", "id"]
        return super().get_ordering(request)

    def export_csv(self, request: HttpRequest) -> HttpResponseBase:
        """The list as it is filtered (view, filters, search, date, tenancy) as CSV, streamed row by row."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            # A filter the list cannot apply (an unknown field, a malformed value): the list's own answer, which
            # sends the browser to the list with its error flag, rather than a 500 (issue 18.7).
            changelist = reverse("admin:appointments_appointment_changelist")
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")
        response = StreamingHttpResponse(appointments_csv(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="appointments-{timezone.now():%Y%m%d-%H%M}.csv"'
        response["Cache-Control"] = "no-store"  # personal data
        return response

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        """The managers' week: appointments by status per day, the no-show rate, the average wait."""
        if not request.user.has_perm("appointments.change_department"):
            raise PermissionDenied
        zone = staff_zone(request.user)
        summary = week_summary(self.get_queryset(request), zone, timezone.now())
        wait = summary["average_wait"]
        seconds = round(wait.total_seconds()) if wait is not None else 0
        context = {
            **self.admin_site.each_context(request),
            "title": "This week",
            "subtitle": None,
            "opts": self.model._meta,
            "summary": summary,
            "first_day": summary["days"][0],
            "last_day": summary["days"][-1],
            "zone_name": zone.key.replace("_", " "),
            "wait_minutes": seconds // 60,
            "wait_seconds": seconds % 60,
        }
        return TemplateResponse(request, "admin/appointments/dashboard.html", context)

    @admin.display(description="time", ordering="appointment_at")
    def when(self, obj: Appointment) -> str:
        return local_label(obj.appointment_at, obj.zone)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Appointment) -> str:
        badge = format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())
        if obj.outcome is None:
            return badge
        return format_html('{} <span class="outcome">{}</span>', badge, obj.get_outcome_display())

    @admin.display(description="outcome")
    def outcome_note(self, obj: Appointment) -> str:
        """A missed appointment's outcome, and whether (by whom, when) the organisation followed it up."""
        if obj.outcome is None:
            return "—"
        if obj.followed_up_at is None:
            return format_html(
                "{}: not followed up yet (the action “Mark selected missed appointments as followed up” records "
                "who called the claimant back).",
                obj.get_outcome_display(),
            )
        who = staff_name(obj.followed_up_by) if obj.followed_up_by is not None else "someone"
        return format_html(
            "{}: followed up by {}, {}", obj.get_outcome_display(), who, local_label(obj.followed_up_at, obj.zone)
        )

    @admin.display(description="join")  # a column header names its column (issue 17.14)
    def join(self, obj: Appointment) -> str:
        window = join_window(obj)
        # A session in progress can be rejoined however long it runs over (issue 17.3).
        if obj.status in FINAL_STATUSES or (obj.status != Status.IN_PROGRESS and not window.is_open(timezone.now())):
            return ""
        url = reverse("admin:appointments_appointment_meeting", args=[obj.pk])
        return format_html('<a class="button join-button" href="{}">Join</a>', url)

    @admin.display(description="claimant", ordering="claimant__name")
    def claimant_name(self, obj: Appointment) -> str:
        return obj.claimant.name

    @admin.display(description="interpreter", ordering="interpreter_language")
    def interpreter(self, obj: Appointment) -> str:
        return obj.interpreter_language or "—" if obj.is_interpreter_needed else "—"

    @admin.display(description="meeting")
    def meeting_details(self, obj: Appointment) -> str:
        meeting = obj.meeting
        join = ""
        if obj.status not in FINAL_STATUSES:
            join = format_html(
                ' · <a class="button join-meeting" href="{}" target="_blank" rel="noopener">Join as agent</a>',
                reverse("admin:appointments_appointment_meeting", args=[obj.pk]),
            )
        return format_html(
            "{} (id {}), {}{}",
            meeting.room_name,
            meeting.id,
            local_span(meeting.start_date, meeting.end_date, obj.zone),
            join,
        )

    @admin.display(description="participants")
    def participants_panel(self, obj: Appointment) -> str:
        return render_to_string("admin/appointments/participants_panel.html", participants_context(obj))

    @admin.display(description="recent changes")
    def recent_history(self, obj: Appointment) -> str:
        entries = appointment_history(obj)[:5]
        if not entries:
            return "—"
        rows = format_html_join(
            "",
            "<li>{} · {} · {} {}: {}</li>",
            (
                (
                    local_label(e.when, obj.zone),
                    e.who,
                    e.what,
                    e.kind,
                    "; ".join(f"{c.field} {c.old} → {c.new}" for c in e.changes) or "—",
                )
                for e in entries
            ),
        )
        history = reverse("admin:appointments_appointment_history", args=[obj.pk])
        return format_html(
            '<ul class="recent-history">{}</ul><a class="full-history" href="{}">Full history</a>', rows, history
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        appointment = self.get_object(request, object_id)
        if appointment is None or not self.has_view_or_change_permission(request, appointment):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of appointment {appointment.reference}",
            "subtitle": None,
            "opts": self.model._meta,
            "object": appointment,
            "entries": appointment_history(appointment),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/appointments/appointment/history.html", context)

    # --- actions, one service call per row, a message for each row that could not change ------------------

    def _transition(self, request: HttpRequest, queryset: QuerySet[Any], target: str, done: str) -> None:
        changed = 0
        for appointment in queryset:
            try:
                appointment_update(appointment=appointment, data={"status": target}, actor=request.user)
            except ValidationError as exc:
                messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
            else:
                changed += 1
        if changed:
            messages.success(request, f"{changed} appointment{'s' if changed != 1 else ''} {done}.")

    @admin.action(description="Mark selected appointments as waiting", permissions=["change"])
    def mark_waiting(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.WAITING, "marked as waiting")

    @admin.action(description="Start the session of selected appointments", permissions=["change"])
    def start_session(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.IN_PROGRESS, "started")

    @admin.action(description="End the session of selected appointments", permissions=["change"])
    def end_session(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.COMPLETED, "completed")

    @admin.action(description="Mark selected appointments as no-show", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._transition(request, queryset, Status.NO_SHOW, "marked as no-show")

    @admin.action(description="Mark selected missed appointments as followed up", permissions=["change"])
    def mark_followed_up(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for appointment in queryset:
            try:
                appointment_follow_up(appointment=appointment, actor=request.user)
            except ValidationError as exc:
                messages.error(request, f"{appointment.reference}: {' '.join(exc.messages)}")
            else:
                done += 1
        if done:
            messages.success(request, f"{done} appointment{'s' if done != 1 else ''} marked as followed up.")

    @admin.action(description="Cancel selected appointments…", permissions=["change"])
    def cancel_appointments(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
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
                messages.success(request, f"{cancelled} appointment{'s' if cancelled != 1 else ''} cancelled.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel appointments",
            "subtitle": None,
            "opts": self.model._meta,
            "appointments": queryset.select_related("claimant", "department"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "cancel_appointments",
        }
        return TemplateResponse(request, "admin/appointments/appointment/cancel_selected.html", context)


# --- departments ------------------------------------------------------------------------------------------------


class ClaimantDataFieldInline(admin.TabularInline):
    model = ClaimantDataField
    form = ClaimantDataFieldForm
    extra = 0
    fields = ["position", "name", "type", "required"]
    ordering = ["position", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "field_count", "contact_details", "features_bandwidth"]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in FEATURE_LABELS:
            kwargs["label"] = FEATURE_LABELS[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    search_fields = ["name"]
    filter_horizontal = ["members"]
    inlines = [ClaimantDataFieldInline]
    fieldsets = [
        (None, {"fields": ["name", "members"]}),
        ("Default features of new appointments", {"fields": list(FEATURE_FIELDS)}),
        ("Local time and the claimant's reminders", {"fields": ["time_zone", "reminder_hours"]}),
        (
            "How claimants contact the department",
            {
                "fields": ["contact_phone", "contact_email", "contact_hours", "contact_help"],
                "description": "Shown on every page a claimant sees and in every message they get. Without any, "
                "they see the organisation's own details (CONTACT_* settings) or are asked to contact the "
                "department the way they were booked.",
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = scoped(super().get_queryset(request), request, "pk")
        return queryset.annotate(
            member_total=Count("members", distinct=True), field_total=Count("data_fields", distinct=True)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Membership decides what a user reaches: only a superuser grants it.
        return [] if request.user.is_superuser else ["name", "members"]

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_total)

    @admin.display(description="contact details")
    def contact_details(self, obj: Department) -> str:
        shown = [obj.contact_phone, obj.contact_email] if obj.contact_phone or obj.contact_email else []
        return ", ".join(shown) or ("Opening hours only" if obj.contact_hours else "No contact details")

    @admin.display(description="claimant data fields", ordering="field_total")
    def field_count(self, obj: Any) -> int:
        return int(obj.field_total)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Data fields are written by the claimant services: a changed field re-checks and converts the values it
        # holds, a new one gives every claimant of the department an empty item.
        for data_field in formset.save(commit=False):
            if data_field.pk is not None and not data_field._state.adding:
                changes = {name: getattr(data_field, name) for name in ("position", "name", "type", "required")}
                claimant_data_field_change(data_field=data_field, changes=changes, actor=request.user)
            else:
                data_field.save()
                claimant_data_field_added(data_field=data_field, actor=request.user)
        for deleted in formset.deleted_objects:
            deleted.delete()
