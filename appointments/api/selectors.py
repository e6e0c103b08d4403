"""The list's filtered and sorted reads, compiled once per shape (issue 26.2: django-filter's form and the ORM's
compile of the count and the page cost the filtered list 1.7 times the floor); whether a caller may see an
appointment (the events' tenancy).

The filters are AppointmentFilterSet's, read without a FilterSet: each value is read and checked by its declared
filter's own field (the form's field, built once), and applied by its declared filter's own `filter()`, once per
shape of query, with marker values (config.prepared): which filters are named, how many statuses, the sort and the
interpreter's boolean (each changes the SQL's text). A query this does not take (`q`, whose SQL depends on its
value, or a value a field refuses) returns None and goes through the filter set as before, which answers its 422s.
tests/appointments/test_list_selectors.py compares the ids with the filter set's, page by page and backwards.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters.constants import EMPTY_VALUES

from appointments.filtersets import AppointmentFilterSet
from appointments.models import Appointment
from appointments.selectors.tally import tallied, tally_read
from config.prepared import HOW_MANY, PagedRead, VisibleTo

_FILTERS = AppointmentFilterSet.base_filters  # the declarations, built once with the class
_TAKEN = ("status", "department_id", "appointment_at_from", "appointment_at_to", "reference", "is_interpreter_needed")
_IN_SQL = ("is_interpreter_needed", "sort")  # a boolean, and the order: part of the SQL's text, not parameters
_TALLIED = ("status", "department_id")  # the tally's own columns (appointments.models.AppointmentTally)

Shape = tuple[tuple[str, Any], ...]  # (filter, its value where in the SQL's text, else how many values) in order


def _filtered(appointments: QuerySet[Any], shape: Shape, markers: tuple[Any, ...]) -> QuerySet[Any]:
    """`appointments` (or the tally's rows) as the filter set filters and orders them, each filter applied by its
    declaration."""
    values = iter(markers)
    for name, fixed in shape:
        if name == "status":
            value: Any = [next(values) for _ in range(fixed)]
        elif name in _IN_SQL:
            value = list(fixed) if name == "sort" else fixed
        else:
            value = next(values)
        appointments = _FILTERS[name].filter(appointments, value)
    return appointments


@functools.lru_cache(maxsize=256)  # bounded: a caller may name many sorts
def _compiled(shape: Shape, tally: bool) -> tuple[VisibleTo, VisibleTo, VisibleTo]:
    """The ids in the list's order, the same backwards, and how many, for queries of this shape: `tally`, from the
    appointments' counts kept per department and status, when the shape filters by nothing else (the status and
    department filters, declared once, applied to the tally's own columns)."""

    def ids(appointments: QuerySet[Appointment], *markers: Any) -> Any:
        return _filtered(appointments, shape, markers).values_list("pk")

    counted = tuple(item for item in shape if item[0] != "sort")
    if tally and {name for name, _ in counted} <= set(_TALLIED):
        how_many = tally_read(lambda rows, *markers: _filtered(rows, counted, markers))
    else:
        how_many = VisibleTo(
            Appointment, lambda appointments, *m: _filtered(appointments, shape, m).order_by().values_list(HOW_MANY)
        )
    return (
        VisibleTo(Appointment, ids),
        VisibleTo(Appointment, lambda appointments, *markers: ids(appointments, *markers).reverse()),
        how_many,
    )


class FilteredIds(PagedRead):
    """The ids of the appointments `user` may see that a query's filters keep, in its sort (each ends with the id)."""

    def __init__(self, user: Any, shape: Shape, values: tuple[Any, ...], reversed_order: bool = False) -> None:
        super().__init__(_compiled(shape, tallied()), (user, *values), reversed_order)
        self.user, self.shape = user, shape


def filtered_ids(user: Any, query: QueryDict) -> FilteredIds | None:
    """The list's ids for this query (its filters and sort), or None when it names what is not compiled here (`q`)
    or a value the filters refuse: the filter set then reads it, and answers the 422."""
    data = AppointmentFilterSet.normalised(query)
    if data.get("q"):
        return None
    shape: list[tuple[str, Any]] = []
    values: list[Any] = []
    for name in (*_TAKEN, "sort"):
        field = _FILTERS[name].field
        try:
            value = field.clean(field.widget.value_from_datadict(data, {}, name))
        except ValidationError:
            return None
        if value in EMPTY_VALUES:
            continue
        if name == "status":
            value = sorted(set(value))  # the filter ORs each status once
            shape.append((name, len(value)))
            values += value
        elif name in _IN_SQL:
            shape.append((name, tuple(value) if name == "sort" else value))
        else:
            shape.append((name, 1))
            values.append(value)
    return FilteredIds(user, tuple(shape), tuple(values))


# Whether a caller may see an appointment, and nothing more (the events' tenancy: issue 26.2).
_VISIBLE = VisibleTo(Appointment, lambda appointments, pk: appointments.filter(pk=pk).order_by().values_list("pk"))


def appointment_visible(user: Any, pk: Any) -> bool:
    """Whether `user` may see the appointment `pk` (tenancy as `visible_to`): one statement compiled once."""
    return bool(_VISIBLE.rows(user, pk))
