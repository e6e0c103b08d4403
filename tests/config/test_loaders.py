"""Timestamps read by psycopg's loader (config.loaders): every connection in UTC reads them with it, Django does not
put its own back on a cursor, and every value read is the one Django's own loader gives."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from appointments.models import Appointment
from config.loaders import UtcTimestamptzLoader
from tests.factories import DepartmentFactory, make_appointment

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loaders: PostgreSQL only"),
]

# Instants a loader could get wrong: the edges of the years PostgreSQL and Python share, microseconds, the hour the
# clocks go back in London (a UTC session has no such hour), a leap day, and before 1970.
INSTANTS = [
    datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, 0, 500000, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def _loader_of(adapters: object) -> type:
    from psycopg.pq import Format

    oid = connection.connection.adapters.types["timestamptz"].oid
    return adapters.get_loader(oid, Format.TEXT)  # type: ignore[attr-defined]


def _read(sql: str, params: list[Any], *, djangos: bool) -> list[tuple[datetime, ...]]:
    """The rows of `sql`, read by this connection's loader, or by Django's own (registered on this cursor alone)."""
    from django.db.backends.postgresql.psycopg_any import register_tzloader  # type: ignore[import-untyped]

    with connection.cursor() as cursor:
        if djangos:
            register_tzloader(connection.timezone, cursor.cursor)
            assert _loader_of(cursor.cursor.adapters) is not UtcTimestamptzLoader
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)  # closes the connection
def test_a_new_connection_reads_timestamps_with_psycopgs_loader_and_django_keeps_it_on_its_cursors() -> None:
    connection.close()
    connection.ensure_connection()
    assert _loader_of(connection.connection.adapters) is UtcTimestamptzLoader
    with connection.cursor() as cursor:  # Django's create_cursor compares time zones and leaves it
        assert _loader_of(cursor.cursor.adapters) is UtcTimestamptzLoader


def test_every_value_read_is_the_one_djangos_loader_gives() -> None:
    sql = "SELECT unnest(%s::timestamptz[]), now(), NULL::timestamptz"
    ours = _read(sql, [INSTANTS], djangos=False)
    djangos = _read(sql, [INSTANTS], djangos=True)
    assert [row[0] for row in ours] == INSTANTS
    assert [row[:2] for row in ours] == [row[:2] for row in djangos]
    assert all(row[2] is None for row in ours)
    for row in ours:
        assert row[0].tzinfo is UTC
        assert row[1].tzinfo is UTC


def test_a_model_saved_and_read_again_holds_the_same_instants() -> None:
    at = (timezone.now() + timedelta(days=3)).replace(microsecond=123456)
    appointment = make_appointment(DepartmentFactory.create(), appointment_at=at)
    read = Appointment.objects.get(pk=appointment.pk)
    assert read.appointment_at == at
    assert read.appointment_at.tzinfo is UTC
    assert read.created_at == appointment.created_at
    assert read.created_at.tzinfo is UTC


@pytest.mark.django_db(transaction=True)  # closes the connection
def test_a_connection_whose_time_zone_is_not_utc_keeps_djangos_loader() -> None:
    connection.close()
    try:
        with override_settings(USE_TZ=False):  # Django's time zone is then none at all
            connection.ensure_connection()
            assert _loader_of(connection.connection.adapters) is not UtcTimestamptzLoader
            with connection.cursor() as cursor:
                cursor.execute("SELECT %s::timestamptz", [INSTANTS[3]])
                assert cursor.fetchone()[0] == INSTANTS[3].replace(tzinfo=None)  # naive, as Django gives it
    finally:
        connection.close()
