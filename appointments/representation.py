"""The appointment as the API shows it (the contract's Appointment), built for speed.

The shape (keys, order, the columns each reads, formats) is declared once, in appointments.shape; building it with
DRF (`AppointmentSerializer`, the schema's description of it) costs about a millisecond per appointment, more than
reading it. These functions build it (tests compare the two for every state of an appointment, byte for byte)
from the shape's columns as the selectors read them (appointments.selectors, the fast path's home: issue 19.4),
with `values_list` for lists and single reads, or from an instance already in memory (the locked row a change just
wrote). The claimant's data items come in the same row on PostgreSQL (a JSON array),
in one more query for any number of appointments elsewhere, or from the claimant's prefetched items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

from appointments import shape
from appointments.models import Appointment
from appointments.selectors import (
    CLAIMANT_ID,
    CallerIds,
    items_in_row,
    shown_items_of,
    shown_rows,
    shown_rows_of,
    shown_rows_visible_to,
)
from appointments.shape import AppointmentShown
from claimants.models import ClaimantData

__all__ = ["CallerIds", "from_rows", "page", "representation", "representations", "visible_one"]


def visible_one(user: Any, pk: Any) -> AppointmentShown | None:
    """The representation of the appointment `pk` if `user` may see it (tenancy as `visible_to`), else None."""
    rows = shown_rows_visible_to(user, pk)
    return from_rows(rows)[0] if rows else None


def page(ids: Sequence[Any]) -> list[AppointmentShown]:
    """The representations of these appointments in this order: a page of a list, whose ids were read with the
    list's filters, order and tenancy."""
    if not ids:
        return []
    rows = {row[0]: row for row in shown_rows(tuple(ids))}
    return from_rows([rows[pk] for pk in ids if pk in rows])


def representations(queryset: QuerySet[Appointment]) -> list[AppointmentShown]:
    """The representation of each appointment of `queryset` (filtered, ordered, sliced): one query on
    PostgreSQL, two elsewhere."""
    return from_rows(list(shown_rows_of(queryset)))


def from_rows(rows: Sequence[Sequence[Any]]) -> list[AppointmentShown]:
    """The representations of rows read by the selectors (`shown_rows…`): with the data items they carry, or one
    more query for all."""
    if items_in_row():
        return [shape.build(row, [shape.item(shape.item_row_from_json(item)) for item in row[-1]]) for row in rows]
    items = shown_items_of(row[CLAIMANT_ID] for row in rows) if rows else {}
    return [shape.build(row, items.get(row[CLAIMANT_ID], [])) for row in rows]


def representation(appointment: Appointment, items: Iterable[ClaimantData] | None = None) -> AppointmentShown:
    """The representation of an instance in memory, its department, claimant and meeting loaded: with `items`
    (the claimant's data items, in the department's order) or the claimant's own (`Claimant.data_items`)."""
    items = appointment.claimant.data_items() if items is None else items
    return shape.build(shape.row_of(appointment), [shape.item(shape.item_row_of(item)) for item in items])
