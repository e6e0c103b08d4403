"""The ledger's reads, compiled once (config.prepared): an appointment's entries as `GET …/events` pages them when no
filter is named, and the appointment's row lock its writers take (issue 26.2: the ORM built each for every request)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model

from config.prepared import HOW_MANY, PagedRead, Prepared, from_row
from config.prepared import columns as columns_of
from ledger.models import Entry

_COUNT = Prepared(lambda pk: Entry.objects.filter(appointment_id=pk).order_by().values_list(HOW_MANY))
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


class EntriesOf(PagedRead):
    """An appointment's entries, oldest first: `entries_of(pk).order_by("sequence", "id")`, with statements compiled
    once."""

    def __init__(self, pk: uuid.UUID, reversed_order: bool = False) -> None:
        super().__init__((_PAGE, _PAGE_REVERSED, _COUNT), (pk,), reversed_order)
        self.pk = pk

    def item(self, row: tuple[Any, ...]) -> Any:
        return from_row(row, [Entry])[0]
