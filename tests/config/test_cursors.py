"""The kept cursors (config.cursors): the statements built once share one cursor per connection and kind, and what
closes the connection, or switches Django's query log, gives the next statement a new one."""

import threading
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from config.cursors import kept_cursor
from config.writes import insert_rows, update_columns
from events.models import Event
from tests.factories import DepartmentFactory, make_appointment
from tests.helpers import postgres_only

pytestmark = pytest.mark.django_db

# Django never closes SQLite's in-memory test database (its close() keeps it, or the data would be lost).
closes_the_connection = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="Django keeps SQLite's in-memory test database open across close()"
)


def _written(appointment: Appointment) -> int:
    """The events of these tests (`make_appointment` records its own)."""
    return Event.objects.filter(appointment_id=appointment.pk, type="appointment.cancelled").count()


def _event(appointment: Appointment, event_id: Any = None) -> Event:
    kwargs = {"id": event_id} if event_id is not None else {}
    return Event(type="appointment.cancelled", appointment_id=appointment.pk, department_id=appointment.department_id,
                 data="{}", created_at=timezone.now(), **kwargs)  # fmt: skip


def test_the_statements_built_once_share_one_cursor_and_each_writes() -> None:
    appointment = make_appointment(DepartmentFactory.create())
    first = kept_cursor()
    written = _event(appointment)
    insert_rows([written])
    written = Event.objects.get(id=written.id)  # its sequence, the database's
    written.dispatched_at = timezone.now()
    update_columns(written, ["dispatched_at"])
    insert_rows([_event(appointment), _event(appointment)])

    assert kept_cursor() is first
    assert _written(appointment) == 3
    assert Event.objects.get(id=written.id).dispatched_at == written.dispatched_at


@closes_the_connection
@pytest.mark.django_db(transaction=True)
def test_a_closed_connection_gives_the_next_statement_a_new_cursor() -> None:
    appointment = make_appointment(DepartmentFactory.create())
    before = kept_cursor()
    held = connection.connection
    connection.close()  # as Django does after an error that spoils it, or at a request's end when it is too old

    insert_rows([_event(appointment)])

    after = kept_cursor()
    assert after is not before
    assert connection.connection is not held
    assert _written(appointment) == 1


@closes_the_connection
@pytest.mark.django_db(transaction=True)
def test_a_failed_health_check_reconnects_before_the_statement(monkeypatch) -> None:
    wrapper: Any = connections[DEFAULT_DB_ALIAS]
    before = kept_cursor()
    held = wrapper.connection
    monkeypatch.setattr(wrapper, "health_check_enabled", True)
    monkeypatch.setattr(wrapper, "health_check_done", False)  # a new request's first statement
    monkeypatch.setattr(wrapper, "is_usable", lambda: False)  # the server went away between requests

    after = kept_cursor()

    assert after is not before
    assert wrapper.connection is not held
    after.execute("SELECT 1")
    assert after.fetchall() == [(1,)]


def test_a_passed_health_check_keeps_the_cursor(monkeypatch) -> None:
    wrapper: Any = connections[DEFAULT_DB_ALIAS]
    before = kept_cursor()
    checks: list[int] = []
    monkeypatch.setattr(wrapper, "health_check_enabled", True)
    monkeypatch.setattr(wrapper, "health_check_done", False)

    def usable() -> bool:
        checks.append(1)
        return True

    monkeypatch.setattr(wrapper, "is_usable", usable)

    assert kept_cursor() is before
    assert kept_cursor() is before
    assert checks == [1]  # checked once, as Django checks a request's connection once


def test_the_query_log_sees_the_statements_while_it_is_on() -> None:
    appointment = make_appointment(DepartmentFactory.create())
    written = _event(appointment)
    insert_rows([written])  # a cursor kept before the log is switched on
    written = Event.objects.get(id=written.id)
    with CaptureQueriesContext(connection) as queries:
        insert_rows([_event(appointment)])
        written.dispatched_at = timezone.now()
        update_columns(written, ["dispatched_at"])
    insert_rows([_event(appointment)])

    assert [query["sql"].split(" ", 1)[0] for query in queries.captured_queries] == ["INSERT", "UPDATE"]
    assert _written(appointment) == 3


def test_a_failed_statement_leaves_the_cursor_usable_and_nothing_half_written() -> None:
    appointment = make_appointment(DepartmentFactory.create())
    taken = _event(appointment)
    insert_rows([taken])
    twice = [_event(appointment), _event(appointment, event_id=taken.id)]  # the second's id is taken: refused
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(twice)

    insert_rows([_event(appointment)])
    assert _written(appointment) == 2


@pytest.mark.django_db(transaction=True)
def test_each_thread_keeps_its_own_cursor() -> None:
    appointment = make_appointment(DepartmentFactory.create())
    mine = kept_cursor()
    theirs: list[Any] = []

    def other() -> None:
        try:
            theirs.append(kept_cursor())
            insert_rows([_event(appointment)])
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()

    assert len(theirs) == 1
    assert theirs[0] is not mine
    assert kept_cursor() is mine
    assert _written(appointment) == 1


@postgres_only
def test_the_kept_server_cursor_prepares_its_statements_once_per_connection() -> None:
    cursor = kept_cursor(on_server=True)
    assert cursor is not kept_cursor()
    for value in (1, 2, 3):
        kept_cursor(on_server=True).execute("SELECT %s::int + 40", [value])
        assert kept_cursor(on_server=True).fetchall() == [(value + 40,)]

    assert kept_cursor(on_server=True) is cursor
    with connection.cursor() as plain:
        plain.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int + 40'")
        assert plain.fetchall() == [(1,)]
