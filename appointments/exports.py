"""The appointments list as CSV for the back office: rows read as plain values in chunks and written as they
come, so 100,000 rows stream in constant memory (one query per chunk for the claimants' data items). Cells a
spreadsheet would run as a formula are made text; a number is left a number (a phone number in E.164, a negative
amount), so it can be read back in as it was stored."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery

from claimants.models import ClaimantData, ClaimantDataField

COLUMNS = (
    ("reference", "reference"),
    ("appointment_at", "time (local)"),
    ("department__time_zone", "time zone"),
    ("duration_in_minutes", "duration (minutes)"),
    ("status", "status"),
    ("agent", "agent"),
    ("department__name", "department"),
    ("claimant__name", "claimant"),
    ("claimant__email", "email"),
    ("claimant__phone_number", "phone"),
    ("interpreter_language", "interpreter"),
    ("cancellation_reason", "cancellation reason"),
    ("session_started_at", "session start (local)"),
    ("session_ended_at", "session end (local)"),
    ("created_at", "created (UTC)"),
)
LOCAL_TIMES = ("appointment_at", "session_started_at", "session_ended_at")
# What the rows are read as: the columns, the agent's name parts, and the claimant the data items belong to.
READ = (
    *(name for name, _label in COLUMNS if name != "agent"),
    "agent__first_name",
    "agent__last_name",
    "agent__username",
    "claimant__id",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that is only a number (a sign, digits, a decimal part) is a value to a spreadsheet, never a formula:
# `+447911123456`, `-12.50`. `+1+2`, `-2+3` or `+44 7911 123456` are not, and are made text.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
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
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return "" if value is None else value


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="minutes")


def _agent(values: dict[str, Any]) -> str | None:
    """The agent as the back office names staff: the full name, else the username (`forms.staff_name`)."""
    full = f"{values['agent__first_name'] or ''} {values['agent__last_name'] or ''}".strip()
    return full or values["agent__username"]


def _data_columns(queryset: QuerySet[Any], departments: QuerySet[Any]) -> list[str]:
    """One column per data field name of the departments exported, in their order (a name two departments
    share is one column). Each field of the `departments` the exporter may see is asked for one appointment of its
    department exported (unordered, LIMIT 1: the department's index finds it at once), rather than reading the
    department of every appointment exported (which grew with the table: issue 26.3)."""
    one_exported = queryset.order_by().filter(department_id=OuterRef("department_id")).values("pk")[:1]
    fields = (
        ClaimantDataField.objects.filter(department__in=departments)
        .alias(exported=Subquery(one_exported))
        .filter(exported__isnull=False)
    )
    return list(dict.fromkeys(fields.order_by("position", "name").values_list("name", flat=True)))


def _data_values(claimant_ids: list[Any]) -> dict[Any, dict[str, str | None]]:
    found: dict[Any, dict[str, str | None]] = {}
    items = ClaimantData.objects.filter(claimant_id__in=claimant_ids).values_list("claimant_id", "field__name", "value")
    for claimant_id, name, value in items:
        found.setdefault(claimant_id, {})[name] = value
    return found


def appointments_csv(queryset: QuerySet[Any], departments: QuerySet[Any]) -> Iterator[str]:
    """`queryset` as CSV, with a column for each data field of `departments` (those the exporter may see) that an
    appointment exported collects."""
    writer = csv.writer(_Line())
    data_columns = _data_columns(queryset, departments)
    labels = [label for _name, label in COLUMNS]
    # A data field named like a column ("email") is told apart, so a header names one column only.
    header = labels + [f"{name} (data)" if name in labels else name for name in data_columns]
    yield "\ufeff" + writer.writerow(header)  # the BOM: spreadsheets read UTF-8
    rows = queryset.values_list(*READ).iterator(chunk_size=CHUNK)
    while chunk := [dict(zip(READ, row, strict=True)) for row in islice(rows, CHUNK)]:
        data = _data_values([values["claimant__id"] for values in chunk]) if data_columns else {}
        for values in chunk:
            zone = _zone(values["department__time_zone"])
            for name in LOCAL_TIMES:
                values[name] = _local(values[name], zone)
            values["created_at"] = values["created_at"].isoformat(timespec="seconds").replace("+00:00", "Z")
            values["agent"] = _agent(values) if values["agent__username"] is not None else None
            items = data.get(values["claimant__id"], {})
            cells = [values[name] for name, _label in COLUMNS] + [items.get(name) for name in data_columns]
            yield writer.writerow([_cell(value) for value in cells])
