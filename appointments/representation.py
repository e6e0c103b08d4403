"""The appointment as the API shows it (the contract's Appointment), built for speed.

`AppointmentSerializer` describes this shape for the schema; building it with DRF costs about a millisecond per
appointment, more than reading it. These functions build the same dictionary (same keys, order, types and text;
tests compare the two for every state of an appointment) from one row of columns: read with `values_list` for
lists and single reads, or taken from an instance already in memory (the locked row a change just wrote). The
claimant's data items come in the same row on PostgreSQL (a JSON array), in one more query for any number of
appointments elsewhere, or from the claimant's prefetched items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, Func, IntegerField, OuterRef, QuerySet
from django.db.models.functions import JSONObject

from appointments.models import FEATURE_FIELDS, Appointment
from claimants.models import ClaimantData
from config.api.fields import milliseconds, seconds
from config.prepared import Prepared, VisibleTo

# The columns of one appointment's row, as `values_list` paths; the representation's order (then `outcome`, shown
# only when set), and the claimant's id last (to find its data items).
COLUMNS = (
    "id",
    "reference",
    "appointment_at",
    "duration_in_minutes",
    "is_interpreter_needed",
    "interpreter_language",
    "status",
    "public_token",
    "created_at",
    "cancelled_at",
    "cancellation_reason",
    "department_id",
    "department__name",
    "claimant__name",
    "claimant__phone_number",
    "claimant__email",
    "claimant__date_of_birth",
    "meeting__id",
    "meeting__room_name",
    "meeting__room_url",
    "meeting__start_date",
    "meeting__end_date",
    "session_started_at",
    "session_ended_at",
    *FEATURE_FIELDS,
    "use_custom_post_call_redirect",
    "custom_user_post_call_redirect_url",
    "custom_agent_post_call_redirect_url",
    "outcome",
    "claimant__id",
)
# The same columns read from an instance with its department, claimant and meeting loaded.
_FROM_INSTANCE = attrgetter(*(path.replace("__", ".") for path in COLUMNS))
_FEATURES = len(FEATURE_FIELDS)
_ITEM_COLUMNS = ("claimant_id", "id", "value", "field__name", "field__type", "field__required")

Item = dict[str, Any]


def _item(id: Any, value: Any, name: str, type: str, required: bool) -> Item:
    return {"id": str(id), "value": value, "name": name, "type": type, "required": required}


def _build(row: Sequence[Any], items: list[Item]) -> dict[str, Any]:
    (pk, reference, at, duration, interpreter, language, status, token, created, cancelled, reason, department_id,
     department_name, name, phone, email, born, meeting_id, room_name, room_url, start, end, started,
     ended) = row[:24]  # fmt: skip
    tail = row[24 + _FEATURES :]
    shown = {
        "id": str(pk),
        "reference": reference,
        "appointment_at": milliseconds(at),
        "duration_in_minutes": duration,
        "is_interpreter_needed": interpreter,
        "interpreter_language": language,
        "status": status,
        "url": f"{settings.PUBLIC_BASE_URL}/join/{token}",
        "created_at": milliseconds(created),
        "cancelled_at": milliseconds(cancelled),
        "cancellation_reason": reason,
        "department": {"id": str(department_id), "name": department_name},
        "claimant": {
            "name": name,
            "phone_number": phone,
            "email": email,
            "date_of_birth": born.isoformat() if born is not None else None,
            "data": items,
        },
        "meeting": {
            "id": meeting_id,
            "room_name": room_name,
            "room_url": room_url,
            "start_date": seconds(start),
            "end_date": seconds(end),
        },
        "session_started_at": milliseconds(started),
        "session_ended_at": milliseconds(ended),
        **dict(zip(FEATURE_FIELDS, row[24 : 24 + _FEATURES], strict=True)),
        "use_custom_post_call_redirect": tail[0],
        "custom_user_post_call_redirect_url": tail[1],
        "custom_agent_post_call_redirect_url": tail[2],
    }
    if tail[3] is not None:  # additive, and absent where unset: every other answer keeps its bytes
        shown["outcome"] = tail[3]
    return shown


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


_SHOWN = {"id": "id", "value": "value", "name": "field__name", "type": "field__type", "required": "field__required"}


def _rows(queryset: QuerySet[Appointment]) -> QuerySet[Appointment, Any]:
    """`queryset` as rows of COLUMNS, followed on PostgreSQL by the claimant's data items as they are shown."""
    if not items_in_row():
        return queryset.values_list(*COLUMNS)
    return queryset.annotate(data_items=data_items_array(_SHOWN)).values_list(*COLUMNS, "data_items")


# The hot reads, compiled once (config.prepared): one appointment the caller may see, the rows of a page's
# appointments, and (elsewhere than PostgreSQL) the data items of a page's claimants.
_ONE = VisibleTo(Appointment, lambda appointments, pk: _rows(appointments.filter(pk=pk)))
_ROWS = Prepared(lambda ids: _rows(Appointment.objects.filter(pk__in=ids)))
_ITEMS = Prepared(
    lambda ids: ClaimantData.objects.filter(claimant_id__in=ids).order_by_field().values_list(*_ITEM_COLUMNS)
)


def _items_of(claimant_ids: Iterable[Any]) -> dict[Any, list[Item]]:
    """The data items of these claimants, in their department's field order: one query for any number."""
    found: dict[Any, list[Item]] = defaultdict(list)
    for claimant_id, *item in _ITEMS.rows(tuple(claimant_ids)):
        found[claimant_id].append(_item(*item))
    return found


def visible_one(user: Any, pk: Any) -> dict[str, Any] | None:
    """The representation of the appointment `pk` if `user` may see it (tenancy as `visible_to`), else None."""
    rows = _ONE.rows(user, pk)
    return from_rows(rows)[0] if rows else None


def page(ids: Sequence[Any]) -> list[dict[str, Any]]:
    """The representations of these appointments in this order: a page of a list, whose ids were read with the
    list's filters, order and tenancy."""
    if not ids:
        return []
    rows = {row[0]: row for row in _ROWS.rows(tuple(ids))}
    return from_rows([rows[pk] for pk in ids if pk in rows])


def representations(queryset: QuerySet[Appointment]) -> list[dict[str, Any]]:
    """The representation of each appointment of `queryset` (filtered, ordered, sliced): one query on
    PostgreSQL, two elsewhere."""
    return from_rows(list(_rows(queryset)))


def from_rows(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """The representations of rows read by `_rows`: with the data items they carry, or one more query for all."""
    if items_in_row():
        return [_build(row, [_item(**item) for item in row[-1]]) for row in rows]
    items = _items_of(row[-1] for row in rows) if rows else {}
    return [_build(row, items.get(row[-1], [])) for row in rows]


def representation(appointment: Appointment, items: Iterable[ClaimantData] | None = None) -> dict[str, Any]:
    """The representation of an instance in memory, its department, claimant and meeting loaded: with `items`
    (the claimant's data items, in the department's order) or the claimant's own (`Claimant.data_items`)."""
    items = appointment.claimant.data_items() if items is None else items
    data = [_item(i.pk, i.value, i.field.name, i.field.type, i.field.required) for i in items]
    return _build(_FROM_INSTANCE(appointment), data)


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
