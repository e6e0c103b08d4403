"""The cursors of the statements the service builds once (config.prepared's reads, config.writes' writes, the
history's and the ledger's): kept on the connection, one of each kind, instead of a new one per statement.

Django opens a cursor for every statement it runs and closes it after. For a one-row statement that is a large part
of its cost in Python: the cursor's making, and on its first statement psycopg's choice of a dumper for each value
and a loader for each column, which a kept cursor has already made (about 40 µs a statement for the appointment's
lock, 30 µs for `SELECT 1`). The statements built once here run one after another and read their whole result at
once, so one cursor serves them all; the ORM's own statements keep Django's cursors.

A kept cursor belongs to the connection it was made on: when Django closes the connection (at a request's end when
it is too old, after an error that spoils it, or a failed health check) the next statement makes a new one, as it
does when Django's query log is switched on or off (the logging cursor is another class).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def kept_cursor(using: str = DEFAULT_DB_ALIAS, *, on_server: bool = False) -> Any:
    """The connection's kept cursor (`on_server`: the one PostgreSQL prepares each statement on, `_server_cursor`),
    made the first time as Django makes a cursor. Never closed by its users, nor used in a `with` block (which would
    close it): each statement's result is read before the next statement is sent on it."""
    db: Any = connections[using]  # the internals read are not in Django's type stubs
    kept: dict[tuple[bool, bool], tuple[Any, Any]] = db.__dict__.setdefault("_kept_cursors", {})
    key = (on_server, db.queries_logged)
    found = kept.get(key)
    # internal: the connection, and the health check Django runs before a request's first statement (as
    # BaseDatabaseWrapper.cursor() does: pinned by tests/config/test_internals_pinned.py); once it is done, or when it
    # is off, the connection stands until Django closes it (and `db.connection` is then another or None).
    if found is not None and found[0] is db.connection and (db.health_check_done or not db.health_check_enabled):
        return found[1]
    db.close_if_health_check_failed()
    db.ensure_connection()
    if found is not None and found[0] is db.connection:  # the connection passed its check: its cursor stands
        return found[1]
    cursor = _server_cursor(using) if on_server else db.cursor()
    kept[key] = (db.connection, cursor)
    return cursor


def _server_cursor(using: str) -> Any:
    """On PostgreSQL, a cursor of Django's (its errors wrapped, its statements logged where Django logs them) that
    binds its values on the server and has psycopg prepare each statement there, once per connection: psycopg
    names it on its first run and then sends only the name and the values, so PostgreSQL neither parses nor plans
    it again (0.18 ms of planning for the poll's 0.04 ms lookup). Elsewhere, or with DB_PREPARE=0 (a pooler in
    transaction mode that keeps no prepared statements), an ordinary cursor.

    Django's own cursors bind on the client and so never prepare (psycopg's ClientCursor); `prepare_threshold`
    (settings: DB_PREPARE) only lets psycopg keep the statements these cursors ask for."""
    db: Any = connections[using]  # the internals read are not in Django's type stubs
    if db.vendor != "postgresql" or db.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is None:
        return db.cursor()
    # internal: what BaseDatabaseWrapper.cursor() does (the health check, the connection, the wrapping), with this
    # cursor class instead of the connection's (pinned by tests/config/test_internals_pinned.py).
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(_on_server(logged=db.queries_logged)(db.connection))


@functools.cache
def _on_server(*, logged: bool) -> type:
    """Django's cursor that binds on the server (its `server_side_binding` one), asking psycopg to prepare every
    statement it runs. Built on first use: only PostgreSQL's backend imports psycopg.

    `logged`: for Django's query log (DEBUG, and the tests' CaptureQueriesContext), which reads the statement back
    from the cursor's `_query`; psycopg leaves it unset when it runs a prepared statement, so this cursor sets it.
    internal: psycopg's `_query` and `_convert_query` (pinned by tests/meetings/test_poll_costs.py, whose counts
    read the logged statements)."""
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]  # not in stubs

    class OnServer(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None) -> Any:
            super().execute(query, params, prepare=True, binary=binary)
            cursor: Any = self  # psycopg's private attributes, untyped here
            if logged and cursor._query is None:
                cursor._query = cursor._convert_query(query, params)
            return self

    return OnServer
