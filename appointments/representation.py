"""The appointment as the API shows it (the contract's Appointment), built for speed.

The shape (keys, order, the columns each reads, formats) is declared once, in appointments.shape; building it with
DRF (`AppointmentSerializer`, the schema's description of it) costs about a millisecond per appointment, more than
reading it. These functions read the shape's columns and build it (tests compare the two for every state of an
appointment, byte for byte): with `values_list` for lists and single reads, or from an instance already in memory
(the locked row a change just wrote). The claimant's data items come in the same row on PostgreSQL (a JSON array),
in one more query for any number of appointments elsewhere, or from the claimant's prefetched items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Func, IntegerField, OuterRef, QuerySet
from django.db.models.functions import JSONObject

from appointments import shape
from appointments.models import Appointment
from appointments.shape import AppointmentShown, ItemShown
from claimants.models import ClaimantData
from config.prepared import Prepared, VisibleTo

# The columns of one appointment's row, as `values_list` paths: the shape's (appointments.shape), then the
# claimant's id (to find its data items).
COLUMNS = (*shape.COLUMNS, "claimant__id")
_CLAIMANT_ID = COLUMNS.index("claimant__id")
_ITEM_COLUMNS = ("claimant_id", *shape.ITEM_COLUMNS)


def items_in_row() -> bool:
    """On PostgreSQL a row of appointments carries its claimant's data items (a JSON array): one statement, not
    two (SQLite reads them in one more)."""
    return connection.vendor == "postgresql"


def data_items_array(keys: dict[str, str]) -> Any:
    """PostgreSQL: the row's claimant's data items in field order, as a JSON array of objects whose `keys` are
    paths from ClaimantData (`field__name`)."""
    from django.contrib.postgres.expressions import ArraySubquery

    items = ClaimantData.objects.filter(claimant_id=OuterRef("claimant__id")).order_by_field()
    return ArraySubquery(items.values(item=JSONObject(**keys)))


def _rows(queryset: QuerySet[Appointment]) -> QuerySet[Appointment, Any]:
    """`queryset` as rows of COLUMNS, followed on PostgreSQL by the claimant's data items (keyed by their columns)."""
    if not items_in_row():
        return queryset.values_list(*COLUMNS)
    items = data_items_array({path: path for path in shape.ITEM_COLUMNS})
    return queryset.annotate(data_items=items).values_list(*COLUMNS, "data_items")


# The hot reads, compiled once (config.prepared): one appointment the caller may see, the rows of a page's
# appointments, and (elsewhere than PostgreSQL) the data items of a page's claimants.
_ONE = VisibleTo(Appointment, lambda appointments, pk: _rows(appointments.filter(pk=pk)))
_ROWS = Prepared(lambda ids: _rows(Appointment.objects.filter(pk__in=ids)))
_ITEMS = Prepared(
    lambda ids: ClaimantData.objects.filter(claimant_id__in=ids).order_by_field().values_list(*_ITEM_COLUMNS)
)


def _items_of(claimant_ids: Iterable[Any]) -> dict[Any, list[ItemShown]]:
    """The data items of these claimants, in their department's field order: one query for any number."""
    found: dict[Any, list[ItemShown]] = defaultdict(list)
    for claimant_id, *item in _ITEMS.rows(tuple(claimant_ids)):
        found[claimant_id].append(shape.item(item))
    return found


def visible_one(user: Any, pk: Any) -> AppointmentShown | None:
    """The representation of the appointment `pk` if `user` may see it (tenancy as `visible_to`), else None."""
    rows = _ONE.rows(user, pk)
    return from_rows(rows)[0] if rows else None


def page(ids: Sequence[Any]) -> list[AppointmentShown]:
    """The representations of these appointments in this order: a page of a list, whose ids were read with the
    list's filters, order and tenancy."""
    if not ids:
        return []
    rows = {row[0]: row for row in _ROWS.rows(tuple(ids))}
    return from_rows([rows[pk] for pk in ids if pk in rows])


def representations(queryset: QuerySet[Appointment]) -> list[AppointmentShown]:
    """The representation of each appointment of `queryset` (filtered, ordered, sliced): one query on
    PostgreSQL, two elsewhere."""
    return from_rows(list(_rows(queryset)))


def from_rows(rows: Sequence[Sequence[Any]]) -> list[AppointmentShown]:
    """The representations of rows read by `_rows`: with the data items they carry, or one more query for all."""
    if items_in_row():
        return [shape.build(row, [shape.item(shape.item_row_from_json(item)) for item in row[-1]]) for row in rows]
    items = _items_of(row[_CLAIMANT_ID] for row in rows) if rows else {}
    return [shape.build(row, items.get(row[_CLAIMANT_ID], [])) for row in rows]


def representation(appointment: Appointment, items: Iterable[ClaimantData] | None = None) -> AppointmentShown:
    """The representation of an instance in memory, its department, claimant and meeting loaded: with `items`
    (the claimant's data items, in the department's order) or the claimant's own (`Claimant.data_items`)."""
    items = appointment.claimant.data_items() if items is None else items
    return shape.build(shape.row_of(appointment), [shape.item(shape.item_row_of(item)) for item in items])


# The ids of a caller's appointments in the list's default order, and how many there are, compiled once.
_IDS = VisibleTo(Appointment, lambda appointments: appointments.values_list("pk"))
_HOW_MANY = Func(F("pk"), function="COUNT", output_field=IntegerField())  # a plain function: no GROUP BY
_COUNT = VisibleTo(Appointment, lambda appointments: appointments.order_by().values_list(_HOW_MANY))


class CallerIds:
    """The ids of the appointments `user` may see, in the list's default order (the model's), as a paginator
    reads a queryset (`count()`, a slice): what an unfiltered, unsorted list reads, with statements compiled once
    instead of for every request."""

    def __init__(self, user: Any) -> None:
        self.user = user

    def count(self) -> int:
        return int(_COUNT.rows(self.user)[0][0])

    def __getitem__(self, wanted: slice) -> list[Any]:
        return [row[0] for row in _IDS.rows(self.user, page=(wanted.stop - wanted.start, wanted.start))]
