"""The ledger's reads, compiled once (config.prepared): an appointment's entries as `GET …/events` pages them when no
filter is named, and the appointment's row lock its writers take (issue 26.2: the ORM built each for every request)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Func, IntegerField, Model

from config.prepared import Prepared, from_row
from config.prepared import columns as columns_of
from ledger.models import Entry

_HOW_MANY = Func(template="COUNT(*)", output_field=IntegerField())  # a plain aggregate: no GROUP BY
_COUNT = Prepared(lambda pk: Entry.objects.filter(appointment_id=pk).order_by().values_list(_HOW_MANY))
_ORDER = ("sequence", "id")  # the API's order; the id last, so it reads backwards exactly
_PAGE = Prepared(lambda pk: Entry.objects.filter(appointment_id=pk).order_by(*_ORDER).values_list(*columns_of(Entry)))
_PAGE_REVERSED = Prepared(
    lambda pk: Entry.objects.filter(appointment_id=pk).order_by(*_ORDER).reverse().values_list(*columns_of(Entry))
)


def _appointments() -> Any:
    """The appointments' manager, as the entries' relation names it (the ledger sits below the appointments app and
    imports nothing of it)."""
    model: type[Model] = Entry._meta.get_field("appointment").related_model  # type: ignore[assignment]
    return model._default_manager


_LOCK = Prepared(lambda pk: _appointments().select_for_update().filter(pk=pk).order_by().values_list("pk"))


def appointment_lock(appointment_id: Any) -> None:
    """Take the appointment's row lock (ledger.services.lock_appointment says when)."""
    _LOCK.rows(appointment_id if isinstance(appointment_id, uuid.UUID) else uuid.UUID(str(appointment_id)))


class EntriesOf:
    """An appointment's entries, oldest first, as a paginator reads a queryset (`count()`, a slice, `reverse()`):
    `entries_of(pk).order_by("sequence", "id")`, with statements compiled once."""

    totally_ordered = True

    def __init__(self, pk: uuid.UUID, reversed_order: bool = False) -> None:
        self.pk, self.reversed_order = pk, reversed_order

    def count(self) -> int:
        return int(_COUNT.rows(self.pk)[0][0])

    def reverse(self) -> EntriesOf:
        return EntriesOf(self.pk, not self.reversed_order)

    def __getitem__(self, wanted: slice) -> list[Any]:
        rows = (_PAGE_REVERSED if self.reversed_order else _PAGE).rows(
            self.pk, page=(wanted.stop - wanted.start, wanted.start)
        )
        return [from_row(row, [Entry])[0] for row in rows]
