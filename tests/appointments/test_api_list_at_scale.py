"""The list's statements stay flat as the table grows (issue 26.3): its total is the counts kept per department and
status, or COUNT(*) (which PostgreSQL answers from an index alone), a page nearer the end is read backwards so it
skips only the rows after it (the last page skips none), and the status filter has no DISTINCT. The pages, their
order and Laravel's exact total and last_page are what they were: every page read forwards or backwards, for each
order, is the ORM's order sliced."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, AppointmentTally, Status
from appointments.services import appointment_update
from tests.factories import in_days, make_appointment

URL = "/api/v1/appointments"


@pytest.fixture
def rows(department, agent) -> list[Appointment]:
    """23 appointments, in ties on their time (so only the id orders them), two of them cancelled."""
    made = [
        make_appointment(department, reference=f"S{n:02d}", appointment_at=in_days(1 + n % 4, hour=10))
        for n in range(23)
    ]
    for appointment in made[:2]:
        appointment_update(appointment=appointment, data={"status": Status.CANCELLED}, actor=agent.user)
    return made


def _ids_sql(queries: CaptureQueriesContext) -> str:
    """The statement that read the page's ids (the one with a LIMIT)."""
    (sql,) = [q["sql"] for q in queries.captured_queries if " LIMIT " in q["sql"]]
    return sql


def _skipped(sql: str) -> int:
    """The rows a statement skips before its page (its OFFSET; the ORM writes none for 0)."""
    found = re.search(r"LIMIT \d+(?: OFFSET (\d+))?$", sql.strip())
    assert found, sql
    return int(found[1] or 0)


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ({}, ("appointment_at", "id")),
        ({"sort": "appointment_at"}, ("appointment_at", "id")),
        ({"sort": "-reference"}, ("-reference", "id")),
        ({"sort": "status,-appointment_at"}, ("status", "-appointment_at", "id")),
        ({"status": "scheduled"}, ("appointment_at", "id")),
    ],
)
def test_every_page_forwards_or_backwards_is_the_orders_slice(api, department, rows, query, order) -> None:
    expected = [str(pk) for pk in Appointment.objects.filter(**(
        {"status": "scheduled"} if "status" in query else {}
    )).order_by(*order).values_list("pk", flat=True)]  # fmt: skip
    for per_page in (4, 5, 23, 100):
        last_page = -(-len(expected) // per_page)
        seen = []
        for page in range(1, last_page + 2):  # one past the end: empty, as Laravel's
            body = api.get(URL, {**query, "per_page": per_page, "page": page}).json()
            assert body["meta"]["total"] == len(expected)
            assert body["meta"]["last_page"] == last_page
            seen += [item["id"] for item in body["data"]]
        assert seen == expected, (query, per_page)


@pytest.mark.parametrize("query", [{}, {"status": "scheduled"}, {"sort": "-appointment_at"}])
def test_the_last_page_skips_no_rows(agent, rows, query) -> None:
    client = agent.client()
    client.get(URL)
    with CaptureQueriesContext(connection) as first:
        client.get(URL, {**query, "per_page": 5})
    with CaptureQueriesContext(connection) as last:
        response = client.get(URL, {**query, "per_page": 5, "page": 5})
    assert response.status_code == 200
    assert response.json()["meta"]["last_page"] == 5
    assert len(first) == len(last) == (4 if connection.vendor == "postgresql" else 5)
    first_sql, last_sql = _ids_sql(first), _ids_sql(last)
    assert _skipped(first_sql) == 0
    assert _skipped(last_sql) == 0, last_sql  # read backwards: no rows come after the last page
    assert first_sql.split(" LIMIT ")[0] != last_sql.split(" LIMIT ")[0]  # the order reversed


def test_a_middle_page_reads_from_the_nearer_end(agent, rows) -> None:
    client = agent.client()
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, {"per_page": 5, "page": 4})  # rows 16-20 of 23: 3 after it, 15 before
    assert _skipped(_ids_sql(queries)) == 3
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, {"per_page": 5, "page": 2})  # rows 6-10: 5 before it, 13 after
    assert _skipped(_ids_sql(queries)) == 5


def test_the_total_is_the_tally_or_count_star_and_the_status_filter_has_no_distinct(agent, rows) -> None:
    """On PostgreSQL a list filtered by nothing but status and department reads its total from the counts kept per
    department and status (AppointmentTally, tests/appointments/test_tally.py); any other filter, and SQLite, count
    with COUNT(*)."""
    client = agent.client()
    client.get(URL)
    tally = AppointmentTally._meta.db_table
    for query in (
        {},
        {"status": "scheduled,cancelled"},
        {"status": "scheduled", "sort": "-appointment_at"},
        {"status": "scheduled", "is_interpreter_needed": "false"},
    ):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(URL, query).json()
        statements = [q["sql"] for q in queries.captured_queries]
        counts = [sql for sql in statements if "COUNT(" in sql.upper() or tally in sql]
        assert len(counts) == 1, counts
        from_tally = connection.vendor == "postgresql" and "is_interpreter_needed" not in query
        assert (tally in counts[0]) is from_tally, counts
        assert ("COUNT(*)" in counts[0].upper()) is not from_tally, counts
        assert not any("DISTINCT" in sql.upper() for sql in statements), query
        assert body["meta"]["total"] == (23 if query.get("status") != "scheduled" else 21)
