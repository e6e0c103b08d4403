"""Timestamps read by psycopg's own loader, in C, instead of Django's, in Python (issue 26).

Django registers on every PostgreSQL connection a loader of `timestamptz` that subclasses psycopg's pure-Python one
(django.db.backends.postgresql.psycopg_any.BaseTzLoader: it parses the text in Python, then sets Django's time zone
on the result), so with psycopg-binary psycopg's C loader never reads a time. One statement of 200 values took
750 µs with Django's loader and 196 µs with psycopg's: about 2.8 µs a value. An appointment's row holds about ten;
a list of a hundred reads a thousand.

Django sets its time zone because it does not trust the session's. Where both are UTC (USE_TZ, no TIME_ZONE of
the database's own: this service's settings), psycopg's loader gives the same value, `datetime.timezone.utc`
included, so each new connection gets `UtcTimestamptzLoader` instead. Any other pair keeps Django's loader.
Django's `create_cursor` compares the connection loader's `timezone` with its own before it registers its loader
again on each cursor: this one's says UTC, so it does not.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import psycopg
from django.db.backends.signals import connection_created
from psycopg.adapt import Loader

_TIMESTAMPTZ = "timestamptz"
# psycopg's own loader of timestamptz as text: its C class with psycopg-binary (or psycopg-c), which cannot be
# subclassed.
_PSYCOPGS: Any = psycopg.adapters.get_loader(psycopg.adapters.types[_TIMESTAMPTZ].oid, psycopg.pq.Format.TEXT)


class UtcTimestamptzLoader(Loader):
    """psycopg's loader of timestamptz for a UTC session, with the `timezone` Django's `create_cursor` reads."""

    timezone = UTC

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        # The C loader's bound method as this instance's `load`: psycopg's transformer calls it with no Python frame
        # of ours in between.
        self.load = _PSYCOPGS(oid, context).load  # type: ignore[method-assign]

    def load(self, data: Any) -> Any:  # the instance's own `load` (above) answers instead
        raise NotImplementedError


def read_timestamps_in_c(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On a new PostgreSQL connection whose session and Django's time zone are both UTC, psycopg's loader reads its
    timestamps (`connection_created`: after Django has set the session's time zone)."""
    if connection.vendor != "postgresql":
        return
    if connection.timezone is not UTC or connection.connection.info.timezone is not UTC:
        return
    connection.connection.adapters.register_loader(_TIMESTAMPTZ, UtcTimestamptzLoader)


connection_created.connect(read_timestamps_in_c, weak=False, dispatch_uid="config.loaders")
