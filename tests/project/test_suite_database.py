"""The suite's own database on SQLite (`make test` without DATABASE_URL): a file, so the live server's threads
never share the test's connection.

An in-memory SQLite test database is one connection, which pytest-django's live server hands to every thread
that serves a request (Django's `connections_override`), while the test's own thread goes on using it. CPython's
sqlite3 then deadlocks: a thread running SQL that calls a Python function (Django registers them for dates,
zones and regular expressions) holds SQLite's lock on the connection and waits for the GIL, while another thread
holds the GIL and waits for that lock to read a column. The whole process stops, with nothing on the processor: a
fresh clone's `make test` sat ten minutes in tests/e2e/test_calendar.py's live polling test (2026-12-05), and
py-spy showed the same freeze in ten lines of plain sqlite3 (docs/decisions.md, "The suite's SQLite database in
a file")."""

from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_live_server_shares_no_database_connection_with_the_test(django_db_setup: None, live_server: Any) -> None:
    """The test database first, as in the whole suite, where the live server starts after tests that used it: a
    live server started before it sees the settings' own file and shares nothing either way."""
    assert live_server.thread.connections_override == {}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="what SQLite's test database is: PostgreSQL has no other")
def test_the_sqlite_test_database_is_a_file_of_this_run() -> None:
    name = str(connection.settings_dict["NAME"])  # an in-memory database has no file: PRAGMA gives ""
    assert name.endswith(".sqlite3")
    with connection.cursor() as cursor:  # the file the connection has open is that one
        cursor.execute("PRAGMA database_list")
        assert [row[2] for row in cursor.fetchall() if row[1] == "main"] == [name]
