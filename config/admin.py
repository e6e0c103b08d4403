"""Admin plumbing shared by the apps: department scoping, the read-only base, the tabular inline whose inputs have
names and the capped paginator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

from config.local_time import local_label
from config.registry import Slot

# The tenancy rule (`Department.objects.visible_to`) is the appointments app's, above config: it provides it here
# from AppointmentsConfig.ready(), as the outbox's consumers register their handlers (docs/layout.md, "Layers").
departments_visible_to: Slot[Callable[[Any], QuerySet[Any]]] = Slot("the departments a user may see")


def scoped(queryset: QuerySet[Any], request: HttpRequest, department_path: str) -> QuerySet[Any]:
    """Tenancy for every admin list and object: a staff member's departments only; a superuser sees all.

    `department_path` leads from the listed model to its department (`appointment__department`, `pk` for
    departments themselves). The departments come from `Department.objects.visible_to`, as in the API.
    """
    if request.user.is_superuser:
        return queryset
    departments = departments_visible_to.get()(request.user)
    return queryset.filter(**{f"{department_path}__in": departments.values("pk")})


def local_time(field: str, description: str, department: Callable[[Any], Any] | None = None) -> Any:
    """A column or read-only field showing the time `field` in the back office's one format (issue 17.10), in the
    zone of the department `department(obj)` returns (its row's joins are the admin's list_select_related or
    get_queryset's), or, for what belongs to no department, in the zone the view made current."""

    @admin.display(description=description, ordering=field)
    def show(model_admin: Any, obj: Any) -> str:
        value = getattr(obj, field)
        if value is None:
            return "—"
        zone = ZoneInfo(department(obj).time_zone) if department is not None else timezone.get_current_timezone()
        return local_label(value, zone)

    return show


def rendered(response: Any) -> Any:
    """The response rendered now: a view that renders inside `timezone.override(...)` returns it done."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response


class LabelledFormSet(BaseInlineFormSet[Any, Any, Any]):
    """Each row's inputs named by their column (`Weekday`, `Delete`): a tabular inline's rows have no label of their
    own, only the table's header, which does not name an input (axe's `label` and `select-name`, WCAG 4.1.2)."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        for field in form.fields.values():
            # A related field's select is inside the admin's wrapper (its add and change links): the select renders
            # its own attributes.
            widget = field.widget.widget if isinstance(field.widget, RelatedFieldWidgetWrapper) else field.widget
            if not widget.is_hidden:
                widget.attrs.setdefault("aria-label", str(field.label or ""))


class TabularInline(admin.TabularInline):
    """Every tabular inline of the back office: its inputs named (LabelledFormSet) and, wider than the screen (the
    working hours at 390 px), its table scrolling inside a box of its own that takes the keyboard focus, so the
    page does not scroll sideways (backoffice.css, `.inline-scroll`)."""

    formset = LabelledFormSet
    template = "admin/edit_inline/tabular_scrolling.html"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only services write (through the appointment's page and actions): listed, never edited."""

    department_path = "appointment__department"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(super().get_queryset(request), request, self.department_path)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows, so a page never costs a count of the whole table; past the cap the
    changelist says "more than 10000" and pages up to the cap (filters and the date hierarchy narrow it)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Without the list's order: counting needs none, and with it PostgreSQL sorted every row the caller may
        # see to keep the first cap + 1 (issue 26.3); without, an index scan stops at cap + 1.
        return int(cast(QuerySet[Any], self.object_list).order_by()[: self.cap + 1].count())

    @property
    def count_is_capped(self) -> bool:
        return self.count > self.cap
