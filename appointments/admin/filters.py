"""The appointment list's filters: the staff member's departments, and which view of the list is shown."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from appointments.local_time import staff_zone
from appointments.models import Appointment, Department
from appointments.selectors import appointments_in_view
from config.actors import staff_of

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices  # django-stubs' own type, not at run time


class View(NamedTuple):
    key: str  # the `show` parameter
    label: str  # the filter's link
    title: str  # the list's heading


# The list's views, declared once: the filter's links, the page's heading and the selector's keys.
VIEWS = (
    View("mine", "Mine", "My appointments"),
    View("today", "Today", "Today"),
    View("week", "This week", "This week"),
    View("waiting", "Waiting now", "Waiting now"),
    View("attention", "Needs attention", "Needs attention"),
    View("all", "All", "Appointments"),
)
# The views whose rows are all of today: their time column gives the clock alone (the heading says the day).
ONE_DAY_VIEWS = frozenset({"today", "waiting"})


class DepartmentFilter(admin.SimpleListFilter):
    """The staff member's departments, without scanning the appointments to find which ones occur."""

    title = "department"
    parameter_name = "department"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Appointment]) -> list[tuple[str, str]]:
        return [(str(d.pk), d.name) for d in Department.objects.visible_to(request.user)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> QuerySet[Appointment]:
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

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, str],
        model: type[Model],
        model_admin: admin.ModelAdmin[Appointment],
    ) -> None:
        self.request = request  # choices() needs it (a search box's query decides the default)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Appointment]) -> list[tuple[str, str]]:
        return [(view.key, view.label) for view in VIEWS]

    @classmethod
    def current(cls, request: HttpRequest) -> str:
        """The view asked for; without one, today when the list is opened as it is, and everything as soon as a
        filter, a search or the date hierarchy narrows it."""
        value = request.GET.get(cls.parameter_name)
        if value in {view.key for view in VIEWS}:
            return str(value)
        narrowed = set(request.GET) - {"o", "p", "_changelist_filters", "_to_field", "_popup"}
        return "all" if narrowed else cls.DEFAULT

    @classmethod
    def title_of(cls, request: HttpRequest) -> str:
        """The list's heading for the view shown."""
        current = cls.current(request)
        return next(view.title for view in VIEWS if view.key == current)

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        current = self.current(self.request)
        for view in VIEWS:
            yield {
                "selected": current == view.key,
                "query_string": changelist.get_query_string({self.parameter_name: view.key}),
                "display": view.label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> QuerySet[Appointment]:
        zone = staff_zone(request.user)
        return appointments_in_view(queryset, self.current(request), zone, timezone.now(), staff_of(request.user))
