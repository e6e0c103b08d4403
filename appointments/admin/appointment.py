"""Appointments in the back office: the day's list, the change page and the booking page.

Every change to an appointment goes through `appointments.services` (the change form, the actions), so a rule
cannot be skipped by editing here; an invalid change shows the service's messages as form errors and saves
nothing. Staff see and change only their departments' records; superusers see all.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.db.models import Case, QuerySet, Value, When
from django.forms import BaseFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from appointments import hooks
from appointments.admin import views
from appointments.admin.actions import ACTIONS
from appointments.admin.calendar import live_context
from appointments.admin.changelist import AppointmentChangeList
from appointments.admin.filters import ONE_DAY_VIEWS, DayFilter, DepartmentFilter
from appointments.forms import CLAIMANT_FIELDS, AppointmentAdminForm, staff_name
from appointments.join_window import join_window
from appointments.local_time import local_clock, local_label, local_span
from appointments.models import FEATURE_FIELDS, FINAL_STATUSES, Appointment, AppointmentQuerySet, Status
from appointments.selectors import appointment_history, appointment_time_zone, claimant_data_items
from config.admin import CappedCountPaginator, scoped

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec  # django-stubs' own type, not at run time


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
    actions = ACTIONS
    readonly_fields = [
        "reference",
        "created",
        "cancelled",
        "session_started",
        "session_ended",
        "meeting_details",
        "participants_panel",
        "messages_panel",
        "recent_history",
        "outcome_note",
        "personal_data_panel",
        "notes_panel",
    ]

    def get_urls(self) -> list[URLPattern]:
        return [*views.urls(self), *super().get_urls()]

    def get_fieldsets(self, request: HttpRequest, obj: Appointment | None = None) -> _FieldsetSpec:
        # What an agent needs first: the time, the claimant, joining, the status; the rest below, the record folded.
        return [
            (
                None,
                {
                    "fields": [
                        "appointment_at",
                        *(["free_time"] if obj is not None and obj.agent_id and obj.status == "scheduled" else []),
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
            (
                "Claimant data",
                {"fields": [f"data_{item.pk}" for item in claimant_data_items(obj)] if obj is not None else []},
            ),
            ("Interpreter", {"fields": ["is_interpreter_needed", "interpreter_language"]}),
            ("Participants", {"fields": ["participants_panel"]}),
            *([("Notes", {"fields": ["notes_panel"]})] if obj is not None else []),
            *([("Messages to the claimant", {"fields": ["messages_panel"]})] if obj is not None else []),
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
            *self._personal_data(request, obj),
        ]

    def _personal_data(self, request: HttpRequest, obj: Appointment | None) -> _FieldsetSpec:
        permission, _panel = hooks.personal_data_panel.get()
        return (
            [("Personal data", {"fields": ["personal_data_panel"]})]
            if obj and request.user.has_perm(permission)
            else []
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The form shows and reads its time in the appointment's department's zone (Django's current time zone).
        try:
            pk = uuid.UUID(str(object_id))
        except ValueError:
            return super().changeform_view(request, object_id, form_url, extra_context)
        zone = appointment_time_zone(self.get_queryset(request), pk)
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # inside the zone: the template shows the times of the form
            return response

    def get_form(
        self, request: HttpRequest, obj: Appointment | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Appointment]]:
        # Data item fields are added per appointment in the form's __init__, not declared on the model form.
        if "fields" in kwargs and kwargs["fields"] is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if not name.startswith("data_")]
        form = super().get_form(request, obj, change=change, **kwargs)
        return cast(type[ModelForm[Appointment]], type(form.__name__, (form,), {"actor": request.user}))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        # The joins the change page, its form and the history read, so get_object is one query.
        queryset = super().get_queryset(request).select_related("department", "claimant", "meeting")
        return scoped(queryset, request, "department")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[AppointmentChangeList]:
        return AppointmentChangeList  # a search's matches read once (issue 26.3)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Appointment], search_term: str
    ) -> tuple[QuerySet[Appointment], bool]:
        # The API's search (indexed, one table at a time) rather than the admin's OR across the claimant join.
        return cast(AppointmentQuerySet, queryset).search(search_term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Agents book too (a claimant who phoned in), through the API's service: the booking form below.
        return request.user.has_perm("appointments.change_appointment")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return views.book(self, request)

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False  # appointments are cancelled, never deleted: the record and its history stay

    def save_model(self, request: HttpRequest, obj: Appointment, form: ModelForm[Appointment], change: bool) -> None:
        pass  # the form's clean() already saved through appointment_update

    def save_related(
        self, request: HttpRequest, form: ModelForm[Appointment], formsets: list[BaseFormSet[Any]], change: bool
    ) -> None:
        pass

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        title = DayFilter.title_of(request)
        # The list is the agent's desk: Django's sidebar of every model would push the Join column out of a 1366 px
        # window (issue 17.11); the header's links (Today, Waiting room) and the breadcrumbs lead everywhere else.
        live = live_context(self, request)  # issue 24.2: the rows drawn again when the day changes
        context = {"title": title, "is_nav_sidebar_enabled": False, **live, **(extra_context or {})}
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

    def get_ordering(self, request: HttpRequest) -> Any:  # an expression first, where django-stubs says strings
        # A day's list puts what is still to come first; the whole table keeps the indexed order.
        if DayFilter.current(request) != "all":
            finished = Case(When(status__in=list(FINAL_STATUSES), then=Value(1)), default=Value(0))
            return [finished.asc(), "appointment_at", "id"]
        return super().get_ordering(request)

    @admin.display(description="time", ordering="appointment_at")
    def when(self, obj: Appointment) -> str:
        return local_label(obj.appointment_at, obj.zone)

    @admin.display(description="time", ordering="appointment_at")
    def when_today(self, obj: Appointment) -> str:
        """A one-day list's time (issue 24: the date was repeated on every row): the clock alone when the
        appointment falls today in its own zone, else the date too, so nothing is read as today that is not."""
        local = obj.appointment_at.astimezone(obj.zone)
        if local.date() == timezone.now().astimezone(obj.zone).date():
            return local_clock(obj.appointment_at, obj.zone)
        return local_label(obj.appointment_at, obj.zone)

    def get_list_display(self, request: HttpRequest) -> Any:
        return [self._time_column(request, name) for name in super().get_list_display(request)]

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        links = super().get_list_display_links(request, list_display)
        return [self._time_column(request, name) for name in links] if links else links

    @staticmethod
    def _time_column(request: HttpRequest, name: Any) -> Any:
        return "when_today" if name == "when" and DayFilter.current(request) in ONE_DAY_VIEWS else name

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
        return obj.claimant.name or "(erased)"

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
        return hooks.participants_panel.get()(obj)  # meetings' (meetings.participants_panel)

    @admin.display(description="internal notes")
    def notes_panel(self, obj: Appointment) -> str:
        return hooks.notes_panel.get()(obj)  # desk's (desk.backoffice)

    @admin.display(description="messages")
    def messages_panel(self, obj: Appointment) -> str:
        return hooks.messages_panel.get()(obj)  # notifications' (notifications.backoffice)

    @admin.display(description="personal data")
    def personal_data_panel(self, obj: Appointment) -> str:
        return hooks.personal_data_panel.get()[1](obj)  # privacy's (privacy.backoffice)

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
                    "; ".join(str(c) for c in e.changes) or "—",
                )
                for e in entries
            ),
        )
        history = reverse("admin:appointments_appointment_history", args=[obj.pk])
        timeline = reverse("admin:appointments_appointment_timeline", args=[obj.pk])
        return format_html(
            '<ul class="recent-history">{}</ul><a class="full-history" href="{}">Full history</a> · '
            '<a class="timeline" href="{}">Timeline</a>',
            rows,
            history,
            timeline,
        )

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return views.history(self, request, object_id)
