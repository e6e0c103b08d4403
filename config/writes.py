"""Statements that write, built once per model and set of columns, then run with each call's values.

`QuerySet.update()` and `bulk_create()` compile their statement on every call, which costs more than the database
spends on a one-row write; these build it once. Only these writers use them (an import-linter contract): the
history's writer (config.history: a row and its history row, the one way a tracked row is written by hand), the
outbox (events.services: the events a change announces, in the change's transaction), the ledger, the
participant's heartbeat (meetings.services.pages: its page's poll notes the time, without history, issue 26.5),
and the webhook worker (webhooks.tasks and worker.runner: a batch of deliveries and their tasks, each row with its
own values).

Django's internals read here are marked `internal:` beside their use and pinned by
tests/config/test_internals_pinned.py, as config.prepared's are.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import AutoField, Field, Model

from config.cursors import kept_cursor


def _fields(model: type[Model], names: Sequence[str]) -> list[Field[Any, Any]]:
    # internal: `_meta.concrete_fields` (the documented Options API is get_fields()): the table's columns, in order.
    by_name = {field.name: field for field in model._meta.concrete_fields}
    return [by_name[name] for name in names]


@functools.cache
def _update_statement(model: type[Model], names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name  # internal: the backend's quoting of names, as its compiler quotes them
    columns = ", ".join(f"{quote(field.column)} = %s" for field in _fields(model, names))
    return f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608


# PostgreSQL: true, and the statement's own transaction then commits without waiting for its WAL to reach the disk.
_WITHOUT_FLUSH = " AND set_config('synchronous_commit', 'off', true) = 'off'"


def update_columns(instance: Model, names: Sequence[str], *, durable: bool = True) -> None:
    """Write these fields of one row as the instance holds them: `QuerySet.update()` without compiling the
    statement on every call (it is built once per model and set of fields), and without signals.

    `durable=False` is for a write whose loss in a crash of the database server costs nothing (a heartbeat's time,
    written again a few seconds later): outside a transaction on PostgreSQL its commit does not wait for the disk
    (synchronous_commit off for that statement's own transaction), a few milliseconds a write on this machine. It
    is visible to every other session at once, as any commit is; only its survival of a crash is given up. Inside a
    transaction it is written as any other: the setting would reach the caller's other writes."""
    fields = _fields(type(instance), names)
    params = [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields]
    params.append(instance._meta.pk.get_db_prep_value(instance.pk, connection))
    sql = _update_statement(type(instance), tuple(names))
    if not durable and connection.vendor == "postgresql" and not connection.in_atomic_block:
        sql += _WITHOUT_FLUSH
    kept_cursor().execute(sql, params)


def update_rows(instances: Sequence[Model], names: Sequence[str]) -> None:
    """`update_columns` for many rows of one model, each with its own values: one statement sent once per row in
    one batch (the driver's executemany), where `bulk_update` compiles a CASE per field and row on every call."""
    if not instances:
        return
    model = type(instances[0])
    fields = _fields(model, names)
    params = [
        [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields]
        + [instance._meta.pk.get_db_prep_value(instance.pk, connection)]
        for instance in instances
    ]
    kept_cursor().executemany(_update_statement(model, tuple(names)), params)


@functools.cache
def _insert_statement(
    model: type[Model], count: int, unless_taken: tuple[str, ...] = ()
) -> tuple[str, tuple[Field[Any, Any], ...]]:
    quote = connection.ops.quote_name
    fields = tuple(field for field in model._meta.concrete_fields if not isinstance(field, AutoField))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
    if unless_taken:  # the unique columns, as PostgreSQL and SQLite both name a conflict's target
        sql += f" ON CONFLICT ({', '.join(quote(field.column) for field in _fields(model, unless_taken))}) DO NOTHING"
    return sql, fields


def insert_rows(instances: Sequence[Model], *, unless_taken: Sequence[str] = ()) -> int:
    """Insert new rows of one model (its auto-numbered key left to the database, and not read back): what
    `bulk_create` writes, with the statement built once per model and number of rows. Returns how many were written.

    `unless_taken` names unique fields (a unique constraint's, all of them): a row whose values there are another
    row's is not written (`ON CONFLICT ... DO NOTHING`), where the insert would fail and spoil the transaction. A
    value drawn at random is then drawn again in the same transaction, with no savepoint to roll back to."""
    if not instances:
        return 0
    sql, fields = _insert_statement(type(instances[0]), len(instances), tuple(unless_taken))
    params = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection)
        for instance in instances
        for field in fields
    ]
    cursor = kept_cursor()
    cursor.execute(sql, params)
    written = int(cursor.rowcount)
    if written == len(instances):  # saved, as bulk_create leaves them (internal: `_state`, as Model.from_db sets it)
        for instance in instances:
            instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    return written
