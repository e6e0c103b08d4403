"""The requests that grew with the table read only their candidates (issue 26.3; bench/scale.py times them at a
million): a phone's beginning is a range of a btree, `?status=scheduled,waiting` reads the live rows' index in the
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
from appointments.selectors import appointments_in_view
from tests.factories import in_days, make_appointment

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


def plan(sql: str, params: Any = ()) -> str:
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
