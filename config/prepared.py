"""Queries the ORM builds and compiles once per process, then runs with each call's values.

Django builds a queryset and compiles it to SQL every time it runs. For the API's small hot queries (the
Bearer lookup, one appointment, the rows and data items of a page) that costs more than the database spends
running them: about 0.2 ms for a one-table lookup and 0.6 ms for the appointment's forty columns over four
tables, on every request. A `Prepared` query is written as an ordinary queryset, built once with marker values
in place of the call's values; its compiled SQL is kept with the place of each marker among the parameters, and
each call runs that SQL with its own values, converted by the converters the ORM itself applies (so SQLite's
UUIDs and datetimes come back as they would from the queryset). Tests compare each prepared query with its
queryset.

Only parameters may vary. Whatever changes the SQL's text is another shape of the query: the number of values in
an `IN` (each number compiled once, as it comes), a superuser's tenancy or a member's (`VisibleTo`, two prepared
queries). The values are UUIDs, integers, strings, dates, aware datetimes, or tuples of them (an `IN`).

Django's internals read here (not its public API, so each is marked `internal:` beside its use and pinned by
tests/config/test_internals_pinned.py, which also pins Django's major.minor so an upgrade forces a re-read): the SQL
compiler (`query.get_compiler`, `as_sql`, `select`, `col_count`, `get_converters`, `apply_converters`), the
connection's `ops.quote_name`, `Options.concrete_fields` and `Options.pk`, and `Model._state`.

Only selectors (`*/selectors.py`), the API's token lookup (config.api.authentication) and config's history writer
(config.history) import this module: services call the selectors' names (docs/decisions.md, issue 19.4). The
statements that write, built once in the same way, are config.writes'.
"""

from __future__ import annotations

import copy
import functools
import itertools
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func, IntegerField, Model, QuerySet

from config.cursors import kept_cursor

_unique = itertools.count(1)


def _marker(value: Any) -> Any:
    """A value of the same type as `value` that no query holds otherwise."""
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, bool):
        raise TypeError("a boolean changes a query's shape: prepare one query for each value")
    if isinstance(value, int):
        return -(10**12) - next(_unique)
    if isinstance(value, str):
        return f"\x1fprepared-marker-{next(_unique)}"
    if isinstance(value, datetime):  # before date: a datetime is a date
        return datetime(2, 1, 1, tzinfo=UTC) + timedelta(microseconds=next(_unique))
    if isinstance(value, date):
        return date(2, 1, 1) + timedelta(days=next(_unique))
    if isinstance(value, tuple | list):
        return tuple(_marker(item) for item in value)
    raise TypeError(
        f"a prepared query's value is a UUID, an int, a str, a date, a datetime or a tuple of them, not {type(value)}"
    )


def _forms(marker: Any, using: str) -> dict[Any, Callable[[Any], Any]]:
    """How a marker may appear among the compiled parameters (as given, or as a backend stores a UUID, a date or a
    datetime: SQLite's text)."""
    forms: dict[Any, Callable[[Any], Any]] = {marker: lambda value: value}
    if isinstance(marker, uuid.UUID):
        forms[marker.hex] = lambda value: value.hex
        forms[str(marker)] = str
    elif isinstance(marker, datetime):
        adapt = connections[using].ops.adapt_datetimefield_value
        forms[adapt(marker)] = adapt
    elif isinstance(marker, date):
        adapt_day = connections[using].ops.adapt_datefield_value
        forms[adapt_day(marker)] = adapt_day
    return forms


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per parameter: (index of the call's value, index inside a tuple or None, conversion), or None (a constant).
    slots: tuple[tuple[int, int | None, Callable[[Any], Any]] | None, ...]
    constants: tuple[Any, ...]
    compiler: Any
    converters: Any


class Prepared:
    """`build(*markers)` returns the queryset (a `values_list`); `rows(*values)` runs it. `on_server`: the statement
    is prepared by PostgreSQL, once per connection (`_server_cursor`), for a read run on nearly every request of a
    kind (the claimant's status poll)."""

    def __init__(
        self, build: Callable[..., QuerySet[Any, Any]], using: str = "default", *, on_server: bool = False
    ) -> None:
        self._build, self._using, self._on_server = build, using, on_server
        self._compiled: dict[Hashable, _Compiled] = {}

    def _compile(self, values: Sequence[Any]) -> _Compiled:
        markers = [_marker(value) for value in values]
        places: dict[Any, tuple[int, int | None, Callable[[Any], Any]]] = {}
        for index, marker in enumerate(markers):
            for inner, item in enumerate(marker) if isinstance(marker, tuple) else [(None, marker)]:
                for form, convert in _forms(item, self._using).items():
                    places[form] = (index, inner, convert)
        # internal: the compiler and its `as_sql()`, which QuerySet iteration itself calls.
        compiler = self._build(*markers).query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        slots = tuple(places.get(param) if isinstance(param, Hashable) else None for param in params)
        found = {(slot[0], slot[1]) for slot in slots if slot is not None}
        expected = {(i, j) for i, m in enumerate(markers) for j in (range(len(m)) if isinstance(m, tuple) else [None])}
        if found != expected:  # a value written into the SQL's text (or left out) would be kept for every call
            raise ValueError(f"the values of a prepared query must each be a parameter of its SQL: {sql}")
        # internal: `select` ((expression, sql, alias) triples) and `col_count` are set by as_sql(); the converters
        # are what ValuesListIterable applies to the rows (its results_iter()).
        fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
        return _Compiled(sql, slots, tuple(params), compiler, compiler.get_converters(fields))

    def rows(self, *values: Any, page: tuple[int, int] | None = None) -> list[tuple[Any, ...]]:
        """The rows for these values; `page` (limit, offset) reads a slice of them (a queryset without one)."""
        key = tuple(len(value) if isinstance(value, tuple | list) else -1 for value in values)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(values)
        params = [
            constant if slot is None else slot[2](values[slot[0]] if slot[1] is None else values[slot[0]][slot[1]])
            for slot, constant in zip(compiled.slots, compiled.constants, strict=True)
        ]
        sql = compiled.sql
        if page is not None:
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, *page]
        cursor = kept_cursor(self._using, on_server=self._on_server)
        cursor.execute(sql, params)
        found = cursor.fetchall()
        if compiled.converters:
            return [tuple(row) for row in compiled.compiler.apply_converters(found, compiled.converters)]
        return found


@functools.cache
def columns(model: type[Model], prefix: str = "") -> tuple[str, ...]:
    """A model's columns as `values_list` paths (`prefix`: through a relation, `department__`)."""
    return tuple(prefix + field.attname for field in model._meta.concrete_fields)


def from_row(row: Sequence[Any], models: Sequence[type[Model]]) -> list[Any]:
    """The instances a row read with `values_list(*columns(a), *columns(b, "b__"), ...)` holds, model after
    model, built as the ORM builds them."""
    instances, start = [], 0
    for model in models:
        names = columns(model)
        instances.append(model.from_db(DEFAULT_DB_ALIAS, names, row[start : start + len(names)]))
        start += len(names)
    return instances


def member(user_id: int) -> Any:
    """A stand-in for a user who is no superuser, with this id: all `visible_to` reads of a user."""
    return get_user_model()(pk=user_id, is_superuser=False)


class VisibleTo:
    """A prepared query over the rows of `model` a user may see (`model.objects.visible_to(user)`, tenancy),
    compiled twice: over all of them and over a member's (the user's id a parameter). `build(rows, *markers)`
    narrows and shapes them as `Prepared`'s build does.

    The model's own tenancy rule decides, not a copy of it: its queryset's `sees_all(user)` (the branch its
    `visible_to` takes) picks the query, and both are built by its `visible_to` (None for all, a member's stand-in
    for a member's)."""

    def __init__(self, model: Any, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self._model = model
        self._all = Prepared(lambda *values: build(model.objects.visible_to(None), *values))
        self._member = Prepared(lambda user_id, *values: build(model.objects.visible_to(member(user_id)), *values))

    @functools.cached_property
    def _tenancy(self) -> Any:
        """The model's queryset, built once, whose `sees_all` is its tenancy rule (a queryset per call costs 10 µs)."""
        return self._model.objects.all()

    def rows(self, user: Any, *values: Any, page: tuple[int, int] | None = None) -> list[tuple[Any, ...]]:
        if self._tenancy.sees_all(user):
            return self._all.rows(*values, page=page)
        return self._member.rows(user.pk, *values, page=page)


# COUNT(*), a plain aggregate (no GROUP BY) over whatever a read keeps: PostgreSQL answers it from an index alone (an
# index-only scan) where COUNT(id) reads every row's id from the table (issue 26.3).
HOW_MANY = Func(template="COUNT(*)", output_field=IntegerField())


class PagedRead:
    """A compiled read as a paginator reads a queryset (`count()`, a slice, `reverse()`): `reads` are the rows in
    their order (which ends with the id, so it reads backwards exactly), the same backwards, and how many
    (`values_list(HOW_MANY)`), each run with `values`; a subclass names them, and `item` turns a row into what a
    page holds (its first column, an id, unless it says otherwise)."""

    totally_ordered = True

    def __init__(
        self,
        reads: tuple[Prepared | VisibleTo, Prepared | VisibleTo, Prepared | VisibleTo],
        values: tuple[Any, ...],
        reversed_order: bool = False,
    ) -> None:
        self.reads, self.values, self.reversed_order = reads, values, reversed_order

    def item(self, row: tuple[Any, ...]) -> Any:
        return row[0]

    def count(self) -> int:
        return int(self.reads[2].rows(*self.values)[0][0])

    def reverse(self) -> Self:
        backwards = copy.copy(self)
        backwards.reversed_order = not self.reversed_order
        return backwards

    def __getitem__(self, wanted: slice) -> list[Any]:
        rows = self.reads[1 if self.reversed_order else 0].rows(
            *self.values, page=(wanted.stop - wanted.start, wanted.start)
        )
        return [self.item(row) for row in rows]
