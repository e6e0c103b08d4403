"""The framework internals the fast path reads (issue 19.4), pinned: each is marked `internal:` beside its use in
config/prepared.py, config/cursors.py, the selectors and config/api/authentication.py. These tests fail when an
upgrade changes one of them, and the version pins fail on any upgrade at all, so whoever upgrades re-reads those notes
first."""

import inspect
from types import SimpleNamespace
from typing import Any

import django
import pytest
import rest_framework
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.base import ModelState
from django.db.models.sql.compiler import SQLCompiler
from django.http import HttpRequest
from rest_framework.request import Request

from appointments.models import Appointment, Department
from claimants.models import ClaimantData
from config.prepared import Prepared, columns, from_row
from tests.factories import make_appointment
from tests.helpers import postgres_only


def test_django_is_the_version_whose_internals_were_read() -> None:
    # On an upgrade: re-read the `internal:` notes (config/prepared.py, the selectors), run this file, move the pin.
    assert django.VERSION[:2] == (5, 2)


def test_drf_is_the_version_whose_internals_were_read() -> None:
    assert tuple(int(part) for part in rest_framework.VERSION.split(".")[:2]) == (3, 18)


def test_the_compilers_methods_take_what_prepared_passes() -> None:
    assert list(inspect.signature(SQLCompiler.as_sql).parameters)[:1] == ["self"]
    assert list(inspect.signature(SQLCompiler.get_converters).parameters) == ["self", "expressions"]
    assert list(inspect.signature(SQLCompiler.apply_converters).parameters) == ["self", "rows", "converters"]


@pytest.mark.django_db
def test_the_compiler_gives_sql_its_parameters_the_selected_columns_and_their_converters(department) -> None:
    appointment = make_appointment(department)
    queryset = Appointment.objects.filter(pk=appointment.pk).values_list("pk", "appointment_at", "department__name")
    compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    assert isinstance(sql, str)
    assert list(params).count(appointment.pk) + list(params).count(appointment.pk.hex) == 1
    # `select` holds (expression, (sql, params), alias) per selected column, `col_count` how many were asked for.
    assert compiler.col_count == 3
    expressions = [selected[0] for selected in compiler.select[: compiler.col_count]]
    assert [expression.target.attname for expression in expressions] == ["id", "appointment_at", "name"]
    converters = compiler.get_converters(expressions)
    assert isinstance(converters, dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    rows = [tuple(row) for row in compiler.apply_converters(raw, converters)] if converters else raw
    assert rows == list(queryset)


def test_concrete_fields_are_the_documented_fields_with_a_column_in_order() -> None:
    for model in (Appointment, Department, ClaimantData):
        documented = [f for f in model._meta.get_fields() if getattr(f, "concrete", False) and not f.many_to_many]
        assert list(model._meta.concrete_fields) == documented
        assert model._meta.pk is model._meta.get_field("id")


def test_quote_name_quotes_as_the_compiler_does() -> None:
    table = Appointment._meta.db_table
    assert connection.ops.quote_name(table) in str(Appointment.objects.all().query)
    assert connection.ops.quote_name(connection.ops.quote_name(table)) == connection.ops.quote_name(table)


@pytest.mark.django_db
def test_an_instance_read_or_inserted_is_saved_to_the_default_database(department) -> None:
    row = Prepared(lambda pk: Department.objects.filter(pk=pk).values_list(*columns(Department))).rows(department.pk)
    read = from_row(row[0], [Department])[0]
    assert isinstance(read._state, ModelState)
    assert (read._state.adding, read._state.db) == (False, DEFAULT_DB_ALIAS)
    assert read == department
    assert [getattr(read, f.attname) for f in Department._meta.concrete_fields] == list(row[0])


def test_a_drf_request_keeps_djangos_request_as_request_underscore() -> None:
    # config/api/authentication.py reads the address from `request._request` (not in DRF's documented API).
    django_request = HttpRequest()
    assert Request(django_request)._request is django_request


@pytest.mark.django_db
def test_a_connection_marked_checked_is_not_checked_again(monkeypatch) -> None:
    # LeanMiddleware sets `health_check_done` so a lean view's first query sends no `SELECT 1` (issue 26.5).
    wrapper: Any = connections[DEFAULT_DB_ALIAS]  # the attributes read are not in Django's type stubs
    wrapper.ensure_connection()
    checks: list[int] = []

    def counted() -> bool:
        checks.append(1)
        return True

    monkeypatch.setattr(wrapper, "is_usable", counted)
    enabled = wrapper.health_check_enabled
    wrapper.health_check_enabled = True
    try:
        wrapper.health_check_done = True
        wrapper.close_if_health_check_failed()
        assert checks == []
        wrapper.health_check_done = False
        wrapper.close_if_health_check_failed()
        assert checks == [1]
        assert wrapper.health_check_done is True
    finally:
        wrapper.health_check_enabled = enabled


def test_a_cursor_is_made_as_config_cursors_makes_its_server_cursor() -> None:
    # config.cursors._server_cursor repeats BaseDatabaseWrapper.cursor() with another cursor class: the health check,
    # the connection, then `_prepare_cursor` (the error wrapping and the query log) around the new cursor; kept_cursor
    # runs the same check and connection before it keeps a cursor.
    from django.db.backends.base.base import BaseDatabaseWrapper

    source = inspect.getsource(BaseDatabaseWrapper._cursor)  # type: ignore[attr-defined]  # not in Django's stubs
    assert source.index("self.close_if_health_check_failed()") < source.index("self.ensure_connection()")
    assert "with self.wrap_database_errors:" in source
    assert "return self._prepare_cursor(self.create_cursor(name))" in source


@postgres_only
def test_djangos_server_binding_cursor_and_psycopgs_prepare_as_config_prepared_uses_them() -> None:
    # Django's cursor for `server_side_binding`, and psycopg preparing on `prepare=True` only when the connection
    # has a threshold (Django's default is none: settings sets one, DB_PREPARE).
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]  # not in stubs
    from psycopg import Cursor
    from psycopg._preparing import Prepare, PrepareManager

    assert issubclass(ServerBindingCursor, Cursor)
    query: Any = SimpleNamespace(query=b"SELECT 1", types=())  # what the manager reads of psycopg's PostgresQuery
    manager = PrepareManager()
    manager.prepare_threshold = None
    assert manager.get(query, True)[0] == Prepare.NO
    manager.prepare_threshold = 2**31 - 1
    assert manager.get(query, True)[0] == Prepare.SHOULD
    assert manager.get(query, None)[0] == Prepare.NO  # Django's own cursors ask nothing: never prepared
