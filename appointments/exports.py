"""The appointments list as CSV for the back office: rows read as plain values in chunks and written as they
come, so 100,000 rows stream in constant memory. Cells a spreadsheet would run as a formula are made text."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

COLUMNS = (
    ("reference", "reference"),
    ("appointment_at", "time (local)"),
    ("department__time_zone", "time zone"),
    ("duration_in_minutes", "duration (minutes)"),
    ("status", "status"),
    ("department__name", "department"),
    ("claimant__name", "claimant"),
    ("claimant__email", "email"),
    ("claimant__phone_number", "phone"),
    ("interpreter_language", "interpreter"),
    ("created_at", "created (UTC)"),
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


class _Line:
    """csv.writer writes here; each row comes back as the line it made."""

    def write(self, value: str) -> str:
        return value


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _cell(value: Any) -> Any:
    # OWASP's advice for CSV injection: a cell a spreadsheet would evaluate starts with a quote instead.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def appointments_csv(queryset: QuerySet[Any]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([label for _name, label in COLUMNS])  # the BOM: spreadsheets read UTF-8
    names = [name for name, _label in COLUMNS]
    for row in queryset.values_list(*names).iterator(chunk_size=CHUNK):
        values = dict(zip(names, row, strict=True))
        values["appointment_at"] = values["appointment_at"].astimezone(_zone(values["department__time_zone"]))
        values["appointment_at"] = values["appointment_at"].isoformat(timespec="minutes")
        values["created_at"] = values["created_at"].isoformat(timespec="seconds").replace("+00:00", "Z")
        yield writer.writerow([_cell(values[name]) for name in names])
