"""Reads that span models, for the back office and the API alike.

`appointment_history`: every recorded change to an appointment, its claimant, the claimant's data and its
meeting. django-simple-history keeps one row per version of each record; this reads them for one appointment in
four queries (one per model) and diffs consecutive versions in memory, so what changed is shown value by value.

`appointment_locked`, `department_visible`: the reads the services start from, on the fast path (issue 19.4): queries
compiled once (config.prepared) and rows made into instances here, so the services hold rules and no SQL plumbing.
`shown_rows…`, `shown_items_of`, `CallerIds`: the rows the API's appointment is built from (appointments.shape,
appointments.representation). A department's free times' reads are appointments.selectors.free_times'. Only
selectors and the API's token lookup import config.prepared (docs/decisions.md).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, models
from django.db.models import Count, OuterRef, Q, QuerySet
from django.db.models.functions import JSONObject

from appointments import hooks, shape
from appointments.local_time import local_day, local_week
from appointments.models import Appointment, Department, Status
from appointments.selectors.caller_ids import CallerIds as CallerIds  # the list's ids, importable from here
from appointments.shape import ItemShown
from appointments.words import change_words, field_label, staff_name, value_words
from claimants.models import Claimant, ClaimantData, ClaimantDataField
from config.actors import Actor
from config.prepared import Prepared, VisibleTo, from_row
from config.prepared import columns as columns_of  # `columns` names the history's columns above

KINDS = {"+": "created", "~": "changed", "-": "deleted"}
# Bookkeeping columns that change with every write and say nothing to a reader.
SKIPPED = {"updated_at", "public_token"}


@dataclass
class Change:
    """One field's change in words: the form's label, the old and new values as the form shows them."""

    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return change_words(self.field, self.old, self.new)  # `Status: Scheduled → Cancelled`


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    what: str
    kind: str
    changes: list[Change] = field(default_factory=list)


def claimant_data_items(appointment: Appointment) -> list[ClaimantData]:
    """The claimant's data items with their fields, in the department's order (one query)."""
    return list(ClaimantData.objects.filter(claimant__appointment=appointment).select_related("field").order_by_field())


def history_columns(model: type[models.Model]) -> list[str]:
    """The columns of `model` a history page compares, version to version."""
    return [f.attname for f in model._meta.concrete_fields if f.attname not in SKIPPED]


def appointment_history(appointment: Appointment) -> list[HistoryEntry]:
    """Newest first. A version by a participant from their own page is shown with their role and name (the
    history's change reason); one by a command (no user, no reason) as by "system"."""
    claimant_id = Claimant.objects.filter(appointment=appointment).values_list("pk", flat=True).get()
    sources: list[tuple[str, Any, list[str]]] = [
        ("Appointment", Appointment.history.filter(id=appointment.pk), history_columns(Appointment)),
        ("Claimant", Claimant.history.filter(appointment_id=appointment.pk), history_columns(Claimant)),
        ("Claimant data", ClaimantData.history.filter(claimant_id=claimant_id), history_columns(ClaimantData)),
        # After these, the parts of the apps above (meetings: "Meeting"), registered in hooks.history_sources.
        *(source(appointment) for source in hooks.history_sources),
    ]
    fetched = [
        (label, list(records.select_related("history_user").order_by("history_date", "history_id")), columns)
        for label, records, columns in sources
    ]
    # Names for the ids the versions hold, read from the versions themselves: a data item a department move
    # removed, or a department the appointment left, still has its name here.
    department_ids = {record.department_id for record in fetched[0][1]}
    field_ids = {record.field_id for record in fetched[2][1]}
    # Staff named in the versions (the agent, who followed up): by their names, as the form's choices show them.
    user_ids = {record.agent_id for record in fetched[0][1]} | {record.followed_up_by_id for record in fetched[0][1]}
    names: dict[tuple[Any, Any], str] = {
        ("appointments.appointment", appointment.pk): appointment.reference,
        **{("appointments.department", d.pk): d.name for d in Department.objects.filter(pk__in=department_ids)},
        **{("claimants.claimantdatafield", f.pk): f.name for f in ClaimantDataField.objects.filter(pk__in=field_ids)},
        **{(User._meta.label_lower, u.pk): staff_name(u) for u in User.objects.filter(pk__in=user_ids - {None})},
    }
    entries: list[HistoryEntry] = []
    for label, records, columns in fetched:
        versions: dict[Any, list[Any]] = defaultdict(list)
        for record in records:
            versions[record.id].append(record)
        for chain in versions.values():
            previous = None
            for record in chain:
                entries.append(_entry(label, record, previous, columns, names, appointment.zone))
                previous = record
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


def _entry(
    label: str, record: Any, previous: Any, columns: list[str], names: dict[tuple[Any, Any], str], zone: ZoneInfo
) -> HistoryEntry:
    what = label
    if label == "Claimant data":
        what = f"Claimant data: {names.get(('claimants.claimantdatafield', record.field_id), 'removed field')}"
    fields = {f.attname: f for f in record.instance_type._meta.concrete_fields}
    user = record.history_user
    by_user = (user.get_full_name() or user.get_username()) if user is not None else None
    who = by_user or record.history_change_reason or "system"
    entry = HistoryEntry(when=record.history_date, who=who, what=what, kind=KINDS.get(record.history_type, "?"))
    for column in columns:
        if column == "id" or (label == "Claimant data" and column in {"claimant_id", "field_id"} and previous is None):
            continue
        new = getattr(record, column)
        old = getattr(previous, column) if previous is not None else None
        if previous is None and record.history_type == "+" and new in (None, ""):
            continue
        if previous is None or old != new:
            model_field = fields[column]
            old_text, new_text = value_words(model_field, old, names, zone), value_words(model_field, new, names, zone)
            entry.changes.append(Change(field_label(model_field), old_text, new_text))
    return entry


# --- the back office's reads (issue 19.6: the queries its pages used to build in the admin) ---------------------


# Not started, and its agent has left (was deactivated, issue 25.3): a manager gives it to another agent.
AGENT_LEFT = Q(status__in=[Status.SCHEDULED, Status.WAITING], agent__is_active=False)


def appointments_in_view(
    appointments: QuerySet[Appointment], view: str, zone: ZoneInfo, now: datetime, user: User | None = None
) -> QuerySet[Appointment]:
    """What one of the appointment list's views shows (appointments.admin.filters.VIEWS): from today on for this
    agent (`mine`), today or this week in `zone`, who waits now, what needs attention; else all it is given."""
    live = [Status.SCHEDULED, Status.WAITING]
    if view == "mine":  # from today on: what is still to come for this agent
        start, _end = local_day(now, zone)
        return appointments.filter(agent=user, appointment_at__gte=start)
    if view == "today":
        start, end = local_day(now, zone)
        return appointments.filter(appointment_at__gte=start, appointment_at__lt=end)
    if view == "week":
        start, end = local_week(now, zone)
        return appointments.filter(appointment_at__gte=start, appointment_at__lt=end)
    if view == "waiting":
        return appointments.filter(status=Status.WAITING)
    if view == "attention":
        # Late (its time passed with nobody started), a link locked by wrong dates of birth, missed by the
        # organisation (the claimant waited and nobody admitted them) until someone has followed it up, or a
        # session running past its end that nobody ended (issue 17.3; completed by itself once nobody is there),
        # or one whose agent has left (AGENT_LEFT).
        # Each is read on its own from an index that holds only its candidates (appointment_live_dept_time,
        # appointment_missed_open, participant_identity_locked, the status's), their ids merged by UNION: one OR
        # across the joins read every appointment to find the few that need attention (issue 26.3).
        every = Appointment.objects.order_by()
        late = every.filter(status__in=live, appointment_at__lt=now - timedelta(minutes=5))
        participant = cast(type[models.Model], Appointment._meta.get_field("participants").related_model)
        participants = participant._default_manager.order_by()  # meetings' model: above appointments in the layers
        locked = participants.filter(
            identity_locked_at__isnull=False, appointment__status__in=[*live, Status.IN_PROGRESS]
        ).values("appointment_id")
        missed = every.filter(outcome__isnull=False, followed_up_at__isnull=True)
        overrun = every.filter(status=Status.IN_PROGRESS, meeting__end_date__lt=now)
        left = every.filter(AGENT_LEFT)
        ids = late.values("pk").union(locked, missed.values("pk"), overrun.values("pk"), left.values("pk"))
        # Read first, then looked up by primary key: as a subquery, PostgreSQL guessed every live row late (its
        # statistics cannot see that the live ones are the future) and hashed all the caller's appointments.
        return appointments.filter(pk__in=list(ids.values_list("pk", flat=True)))
    return appointments


def appointment_time_zone(appointments: QuerySet[Appointment], pk: uuid.UUID) -> str | None:
    """The name of the zone of the appointment's department, or None when `appointments` does not hold it."""
    row = appointments.filter(pk=pk).values_list("department__time_zone", flat=True).first()
    return str(row) if row is not None else None


def departments_counted(departments: QuerySet[Department]) -> QuerySet[Department]:
    """The departments with how many members (`member_total`) and claimant data fields (`field_total`) each has."""
    return departments.annotate(
        member_total=Count("members", distinct=True), field_total=Count("data_fields", distinct=True)
    )


# --- The services' reads, compiled once (config.prepared) -----------------------------------------------------------

_PARTS = ((Appointment, ""), (Department, "department__"), (Claimant, "claimant__"))


@cache
def _locked_parts() -> tuple[tuple[type[models.Model], str], ...]:
    """What the lock's row holds: the appointment, its department and claimant, and the rows the apps above
    registered to be read with it (hooks.locked_parts, meetings: the meeting), read when the query is first compiled
    (after every app's ready())."""
    return (*_PARTS, *((part.model, f"{part.name}__") for part in hooks.locked_parts))


@cache
def _locked_columns() -> list[str]:
    return [column for model, prefix in _locked_parts() for column in columns_of(model, prefix)]


_ITEM_COLUMNS = [*columns_of(ClaimantData), *columns_of(ClaimantDataField, "field__")]


def _locked_rows(appointments: QuerySet[Appointment], lock: bool = True) -> QuerySet[Appointment, tuple[Any, ...]]:
    """The lock's rows: the appointment with its department, claimant and meeting (_locked_parts), and on PostgreSQL the
    claimant's data items with their fields as a JSON array in the same row (SQLite reads them in one more)."""
    # One row: the model's order would only be planned and sorted (issue 26.2).
    locked = appointments.order_by().select_for_update(of=("self",)) if lock else appointments.order_by()
    if not items_in_row():
        return locked.values_list(*_locked_columns())
    items = data_items_array(_ITEM_COLUMNS)
    return locked.annotate(data_items=items).values_list(*_locked_columns(), "data_items")


# The lock over any appointment and over a member's, and a claimant's data items where the lock's row cannot hold them.
_LOCK = VisibleTo(Appointment, lambda appointments, pk: _locked_rows(appointments.filter(pk=pk)))
# The same rows without the lock, for a change tried and not made (a dry run waits for no writer and holds none up).
_UNLOCKED = VisibleTo(Appointment, lambda appointments, pk: _locked_rows(appointments.filter(pk=pk), lock=False))
_ITEMS = Prepared(
    lambda claimant_id: (
        ClaimantData.objects.filter(claimant_id=claimant_id).order_by_field().values_list(*_ITEM_COLUMNS)
    )
)


def _item_from_json(item: Mapping[str, Any]) -> ClaimantData:
    """A data item with its field from the lock's JSON array, its values as the fields read them."""
    values = []
    for model, prefix in ((ClaimantData, ""), (ClaimantDataField, "field__")):
        # `_meta.concrete_fields` is not in Django's documented Options API (get_fields() is): pinned by
        # tests/config/test_internals_pinned.py, as config.prepared.columns reads it in the same order.
        values += [field.to_python(item[prefix + field.attname]) for field in model._meta.concrete_fields]
    data_item, data_item.field = from_row(values, [ClaimantData, ClaimantDataField])
    return data_item


def appointment_locked(pk: uuid.UUID | str, viewer: Actor = None, *, lock: bool = True) -> Appointment:
    """The appointment's row under a lock (among those `viewer` may see, when given), with what the rules and the
    representation read: its department, claimant and meeting, and the claimant's data items with their fields
    (as `with_related()` gives them), in one statement on PostgreSQL. Appointment.DoesNotExist when not found.
    Only inside a transaction (the services' `block()`): the lock lasts until it ends. `lock=False`: the same read
    without the lock (a dry run, which writes nothing)."""
    rows = (_LOCK if lock else _UNLOCKED).rows(viewer, pk)
    if not rows:
        raise Appointment.DoesNotExist
    appointment, department, claimant, *above = from_row(rows[0], [model for model, _prefix in _locked_parts()])
    appointment.department, appointment.claimant = department, claimant
    for (_model, prefix), instance in zip(_locked_parts()[len(_PARTS) :], above, strict=True):
        setattr(appointment, prefix.removesuffix("__"), instance)  # the relation's cache, as select_related() fills it
    if len(rows[0]) > len(_locked_columns()):
        items = [_item_from_json(item) for item in rows[0][-1]]
    else:
        items = []
        for row in _ITEMS.rows(claimant.pk):
            item, item.field = from_row(row, [ClaimantData, ClaimantDataField])
            items.append(item)
    claimant.keep_data_items(items)
    return appointment


# A department by its id, among those a user may use.
_DEPARTMENT = VisibleTo(
    Department, lambda departments, pk: departments.filter(pk=pk).values_list(*columns_of(Department))
)


def department_visible(*, actor: Actor, pk: uuid.UUID | str) -> Department | None:
    """The department with this id if `actor` may use it (tenancy: Department.objects.visible_to), else None."""
    rows = _DEPARTMENT.rows(actor, pk)
    return from_row(rows[0], [Department])[0] if rows else None


def _with_fields(departments: QuerySet[Department]) -> QuerySet[Department, tuple[Any, ...]]:
    """The departments' rows, each with its claimant data fields in their order as a JSON array (PostgreSQL)."""
    fields = ClaimantDataField.objects.filter(department_id=OuterRef("pk")).order_by("position", "name")
    array = ArraySubquery(fields.values(item=JSONObject(**{name: name for name in columns_of(ClaimantDataField)})))
    return departments.annotate(fields_json=array).values_list(*columns_of(Department), "fields_json")


# A create's department, named or the caller's only one (two read to tell), with its data fields (PostgreSQL).
_NAMED_WITH_FIELDS = VisibleTo(Department, lambda departments, pk: _with_fields(departments.filter(pk=pk)))
_CALLERS_WITH_FIELDS = VisibleTo(Department, _with_fields)


def departments_for_create(*, actor: Actor, pk: uuid.UUID | str | None) -> list[Department]:
    """The department with this id if `actor` may use it, or (no id) the first two of theirs: as
    `department_visible` and `Department.objects.visible_to(actor)[:2]`. On PostgreSQL each carries its claimant
    data fields, read in the same statement (`Department.data_fields_read`), which a create then does not read again."""
    if not items_in_row():
        if pk is None:
            return list(Department.objects.visible_to(actor)[:2])
        named = department_visible(actor=actor, pk=pk)
        return [named] if named is not None else []
    rows = _CALLERS_WITH_FIELDS.rows(actor, page=(2, 0)) if pk is None else _NAMED_WITH_FIELDS.rows(actor, pk)
    found = []
    for row in rows:
        department = from_row(row, [Department])[0]
        department.data_fields_read = [_field_from_json(item) for item in row[-1]]
        found.append(department)
    return found


def _field_from_json(item: Mapping[str, Any]) -> ClaimantDataField:
    # internal: `_meta.concrete_fields`, as _item_from_json reads it (pinned by tests/config/test_internals_pinned.py)
    values = [field.to_python(item[field.attname]) for field in ClaimantDataField._meta.concrete_fields]
    return cast(ClaimantDataField, from_row(values, [ClaimantDataField])[0])


# The appointment as the API shows it (appointments.representation builds it from these rows).
# The columns of one appointment's row, as `values_list` paths: the shape's (appointments.shape), then the
# claimant's id (to find its data items).
COLUMNS = (*shape.COLUMNS, "claimant__id")
CLAIMANT_ID = COLUMNS.index("claimant__id")
_SHOWN_ITEM_COLUMNS = ("claimant_id", *shape.ITEM_COLUMNS)


def items_in_row() -> bool:
    """On PostgreSQL a row of appointments carries its claimant's data items (a JSON array): one statement, not
    two (SQLite reads them in one more)."""
    return connection.vendor == "postgresql"


def data_items_array(paths: Iterable[str]) -> Any:
    """PostgreSQL: the row's claimant's data items in field order, as a JSON array of objects keyed by `paths`
    from ClaimantData (`field__name`), each holding that path's value."""
    items = ClaimantData.objects.filter(claimant_id=OuterRef("claimant__id")).order_by_field()
    return ArraySubquery(items.values(item=JSONObject(**{path: path for path in paths})))


def shown_rows_of(queryset: QuerySet[Appointment]) -> QuerySet[Appointment, Any]:
    """`queryset` as rows of COLUMNS, followed on PostgreSQL by the claimant's data items (keyed by their columns)."""
    if not items_in_row():
        return queryset.values_list(*COLUMNS)
    items = data_items_array(shape.ITEM_COLUMNS)
    return queryset.annotate(data_items=items).values_list(*COLUMNS, "data_items")


# The hot reads, compiled once (config.prepared): one appointment the caller may see, the rows of a page's
# appointments, and (elsewhere than PostgreSQL) the data items of a page's claimants.
_SHOWN_ONE = VisibleTo(Appointment, lambda appointments, pk: shown_rows_of(appointments.filter(pk=pk)))
_SHOWN_ROWS = Prepared(lambda ids: shown_rows_of(Appointment.objects.filter(pk__in=ids)))
_SHOWN_ITEMS = Prepared(
    lambda ids: ClaimantData.objects.filter(claimant_id__in=ids).order_by_field().values_list(*_SHOWN_ITEM_COLUMNS)
)


def shown_items_of(claimant_ids: Iterable[Any]) -> dict[Any, list[ItemShown]]:
    """The data items of these claimants, in their department's field order: one query for any number."""
    found: dict[Any, list[ItemShown]] = defaultdict(list)
    for claimant_id, *item in _SHOWN_ITEMS.rows(tuple(claimant_ids)):
        found[claimant_id].append(shape.item(item))
    return found


def shown_rows_visible_to(user: Actor, pk: Any) -> list[tuple[Any, ...]]:
    """The row (`shown_rows_of`) of the appointment `pk` if `user` may see it (tenancy as `visible_to`), or none."""
    return _SHOWN_ONE.rows(user, pk)


def shown_rows(ids: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows (`shown_rows_of`) of these appointments, in no order: a page's, whose ids the list read."""
    return _SHOWN_ROWS.rows(ids)
