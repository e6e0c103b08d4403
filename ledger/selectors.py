"""The ledger's reads for the API, compiled once (config.prepared): an appointment's entries as `GET
…/events` pages them when no filter is named (issue 26.2: the ORM built the count and the page for every request)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Func, IntegerField

from config.prepared import Prepared, from_row
from config.prepared import columns as columns_of
from ledger.models import Entry
from ledger.services import entries_of

_HOW_MANY = Func(template="COUNT(*)", output_field=IntegerField())  # a plain aggregate: no GROUP BY
_COUNT = Prepared(lambda pk: entries_of(pk).order_by().values_list(_HOW_MANY))
_ORDER = ("sequence", "id")  # the API's order; the id last, so it reads backwards exactly
_PAGE = Prepared(lambda pk: entries_of(pk).order_by(*_ORDER).values_list(*columns_of(Entry)))
_PAGE_REVERSED = Prepared(lambda pk: entries_of(pk).order_by(*_ORDER).reverse().values_list(*columns_of(Entry)))


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
