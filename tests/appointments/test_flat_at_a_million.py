"""The requests that grew with the table read only their candidates (issue 26.3; bench/scale.py times them at a
million): a search reads its matches from the claimants' indexes and then those appointments by primary key, a
phone's beginning is a range of a btree, `?status=scheduled,waiting` reads the live rows' index in the
list's order, and Needs attention reads each kind of candidate from an index holding only those, then looks the few
up by primary key. Each plan is PostgreSQL's choice with sequential scans discouraged: a table of a few rows is
otherwise read whole, whatever its indexes."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from appointments.search import READ_WHOLE_UP_TO
from appointments.selectors import appointments_in_view
from meetings.models import Participant, Role
from meetings.selectors import claimant_waits_by_agent
from tests.factories import in_days, make_appointment
from tests.helpers import logged_in, staff

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans and indexes")

URL = "/api/v1/appointments"
WHO = {"name": "Ada Lovelace", "data": {"Case number": "1"}}


@pytest.fixture
def no_seqscan(db: None) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_seqscan")


def plan(sql: str, params: Any = None) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_phones_beginning_is_a_range_of_the_prefix_index(department, no_seqscan) -> None:
    found = make_appointment(department, reference="F", claimant={**WHO, "phone_number": "+447900000123"})
    make_appointment(department, reference="G", claimant={**WHO, "phone_number": "+447911000123"})
    search = Appointment.objects.search("+4479000")
    assert list(search) == [found]
    assert list(Appointment.objects.search("+44 7900 00")) == [found]  # typed with spaces: its digits
    sql, params = search.query.sql_with_params()
    shown = plan(sql, params)
    assert "claimant_phone_prefix" in shown, shown
    assert "claimant_phone_trgm" not in shown, shown


@pytest.fixture
def crowded(department) -> None:
    """Two thousand more of the caller's appointments (bare rows written in bulk: no claimant, no history), and the
    planner told (ANALYZE): as at a million, the caller's appointments are many and a search's matches few."""
    when = in_days(400)
    Appointment.objects.bulk_create(
        Appointment(department=department, reference=f"B{n}", appointment_at=when, duration_in_minutes=30)
        for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appointments_appointment")


@pytest.mark.history_unchecked  # the crowd is written in bulk, without history
@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("Lovelace", "claimant_name_trgm"),
        ("@bletchley.example", "claimant_email_trgm"),
        ("+4479000", "claimant_phone_prefix"),
    ],
)
def test_a_search_reads_its_matches_from_an_index_then_each_by_primary_key(
    api, department, crowded, no_seqscan, text, index
) -> None:
    """The list is read whole in one statement (its total counted from it: a few thousand ids at most), which reads
    the matches' ids from the claimants' index for the term, then those appointments by primary key (`id =
    ANY(...)`): never the caller's appointments against the matches, which grows with the table however few they
    are (issue 26.3)."""
    found = make_appointment(
        department,
        reference="F",
        claimant={"name": "Ada Lovelace", "email": "ada@bletchley.example", "phone_number": "+447900000123", **WHO},
    )
    make_appointment(department, reference="G", claimant={"name": "Alan Turing", "data": {"Case number": "2"}})
    with CaptureQueriesContext(connection) as queries:
        body = api.get(URL, {"q": text}).json()
    assert [item["id"] for item in body["data"]] == [str(found.pk)]
    assert body["meta"]["total"] == 1
    (searched,) = [q["sql"] for q in queries.captured_queries if "= ANY(ARRAY(" in q["sql"]]
    assert f"LIMIT {READ_WHOLE_UP_TO + 1}" in searched, searched
    shown = plan(searched)
    assert index in shown, shown
    assert "Index Cond: (id = ANY (" in shown, shown
    assert "appointments_appointment_pkey" in shown, shown
    assert "appointment_dept" not in shown, shown  # not the caller's appointments, read against the matches


@pytest.mark.history_unchecked  # the crowd is written in bulk, without history
def test_a_search_with_more_matches_is_counted_then_sliced_the_same_way(
    api, department, crowded, no_seqscan, monkeypatch
) -> None:
    for n in range(3):
        make_appointment(department, reference=f"F{n}", appointment_at=in_days(1 + n), claimant={**WHO})
    monkeypatch.setattr("appointments.api.views.READ_WHOLE_UP_TO", 2)
    with CaptureQueriesContext(connection) as queries:
        body = api.get(URL, {"q": "lovelace", "per_page": 2, "page": 2}).json()
    assert [item["reference"] for item in body["data"]] == ["F2"]
    assert (body["meta"]["total"], body["meta"]["last_page"]) == (3, 2)
    searched = [q["sql"] for q in queries.captured_queries if "= ANY(ARRAY(" in q["sql"]]
    assert len(searched) == 3, searched  # the whole read that found more, the total, the page
    for sql in searched:
        shown = plan(sql)
        assert "claimant_name_trgm" in shown, shown
        assert "Index Cond: (id = ANY (" in shown, shown


@pytest.mark.history_unchecked  # the crowd is written in bulk, without history
def test_the_back_office_searches_with_the_same_statement(department, crowded, no_seqscan) -> None:
    make_appointment(department, reference="F", claimant={**WHO, "email": "ada@bletchley.example"})
    desk = logged_in(staff("flat-desk", department))
    with CaptureQueriesContext(connection) as queries:
        listed = desk.get("/admin/appointments/appointment/", {"q": "@bletchley.example"}).context["cl"].result_list
    assert [appointment.reference for appointment in listed] == ["F"]
    searched = [q["sql"] for q in queries.captured_queries if "= ANY(ARRAY(" in q["sql"]]
    assert searched, [q["sql"] for q in queries.captured_queries]
    for sql in searched:
        shown = plan(sql)
        assert "claimant_email_trgm" in shown, shown
        assert "Index Cond: (id = ANY (" in shown, shown


def test_the_live_statuses_read_the_live_index(api, department, no_seqscan) -> None:
    for n in range(3):
        make_appointment(department, reference=f"L{n}", appointment_at=in_days(1 + n))
    with CaptureQueriesContext(connection) as queries:
        body = api.get(URL, {"status": "scheduled,waiting"}).json()
    assert body["meta"]["total"] == 3
    (ids,) = [q["sql"] for q in queries.captured_queries if " LIMIT " in q["sql"]]
    shown = plan(ids)
    assert "appointment_live_dept_time" in shown, shown


def test_needs_attention_reads_its_candidates_then_the_few_by_primary_key(department, no_seqscan) -> None:
    late = make_appointment(department, reference="LATE", appointment_at=in_days(1))
    make_appointment(department, reference="LATER", appointment_at=in_days(3))
    now = timezone.now() + timedelta(days=2)  # LATE's time passed with nobody started
    with CaptureQueriesContext(connection) as queries:
        shown = appointments_in_view(Appointment.objects.all(), "attention", ZoneInfo("UTC"), now)
    (candidates,) = [q["sql"] for q in queries.captured_queries]
    assert list(shown) == [late]
    assert "UNION" not in str(shown.query)  # the few ids, not a subquery PostgreSQL would hash every row against
    read = plan(candidates)
    for index in ("appointment_live_dept_time", "appointment_missed_open", "participant_identity_locked"):
        assert index in read, read


@pytest.mark.history_unchecked  # the waits are written as the waiting room leaves them, bare
def test_the_dashboards_waits_are_read_from_the_claimants_waits_index_alone(department, no_seqscan) -> None:
    """The managers' dashboard averages the claimants' waits per agent over a week's appointments: each one's are
    read from an index of the claimants' waits alone, not from the participants' rows (at a million appointments,
    8,351 buffers read against 14,247)."""
    waited = make_appointment(department, reference="W", appointment_at=in_days(1))
    make_appointment(department, reference="N", appointment_at=in_days(2))  # nobody waited yet
    Participant.objects.filter(appointment=waited, role=Role.CLAIMANT).update(
        joined_waiting_at=waited.appointment_at - timedelta(minutes=4), admitted_at=waited.appointment_at
    )
    week = Appointment.objects.filter(appointment_at__gte=in_days(0), appointment_at__lt=in_days(7))
    with CaptureQueriesContext(connection) as queries:
        waits = claimant_waits_by_agent(week)
    assert waits == {None: {"average": timedelta(minutes=4), "recorded": 1}}
    (sql,) = [q["sql"] for q in queries.captured_queries]
    shown = plan(sql)
    assert "Index Only Scan using participant_claimant_waited" in shown, shown
