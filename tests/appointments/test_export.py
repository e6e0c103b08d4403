"""The back office's CSV export: what a row carries, numbers left numbers, formulas made text (issue 17.12), and
a filter the list cannot apply answered as the list answers it, never a 500 (issue 18.7)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_cancel
from claimants.models import FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, in_days, make_appointment
from tests.helpers import logged_in, rewrite, staff

LIST = "/admin/appointments/appointment/"
EXPORT = f"{LIST}export.csv"


def exported(response) -> tuple[list[str], list[dict[str, str]]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


@pytest.fixture
def desk(department):
    user = staff("desk", department)
    user.first_name, user.last_name = "Dana", "Desk"
    user.save()
    return user


def test_a_row_carries_the_agent_the_cancellation_the_session_and_the_data(department, desk) -> None:
    fields = ClaimantDataFieldFactory
    fields.create(department=department, name="Amount", type=FieldType.NUMBER, position=2)
    fields.create(department=department, name="Notes", type=FieldType.STRING, position=3)
    fields.create(department=department, name="email", type=FieldType.EMAIL, position=4)  # a column's name too
    claimant = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone_number": "07911 123456",  # stored as +447911123456
        "data": {
            "Case number": "C-1",
            "Incident date": "2026-05-01",
            "Amount": "-12.50",
            "Notes": '=HYPERLINK("http://evil.example/")',
            "email": "solicitor@example.com",
        },
    }
    held = make_appointment(department, reference="HELD", claimant=claimant, agent_id=desk.pk)
    started = in_days(2, 10, 2)
    rewrite(
        Appointment.objects.filter(pk=held.pk),
        status=Status.COMPLETED,
        session_started_at=started,
        session_ended_at=started + timedelta(minutes=47),
    )
    called_off = make_appointment(
        department,
        reference="OFF",
        claimant={"name": "Alan", "phone_number": "+12025550143", "data": {"Case number": "C-2"}},
    )
    appointment_cancel(appointment=called_off, reason="+1+2 @SUM(A1) said no", actor=desk)

    header, rows = exported(logged_in(desk).get(EXPORT, {"show": "all"}))

    assert header[-5:] == ["Case number", "Incident date", "Amount", "Notes", "email (data)"]
    row = {r["reference"]: r for r in rows}
    local = started.astimezone(held.zone)
    assert {name: row["HELD"][name] for name in header if name not in ("time (local)", "created (UTC)")} == {
        "reference": "HELD",
        "time zone": "Europe/London",
        "duration (minutes)": "60",
        "status": "completed",
        "agent": "Dana Desk",
        "department": "Claims",
        "claimant": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+447911123456",  # a validated E.164 number, as it is: no apostrophe
        "interpreter": "",
        "cancellation reason": "",
        "session start (local)": local.isoformat(timespec="minutes"),
        "session end (local)": (local + timedelta(minutes=47)).isoformat(timespec="minutes"),
        "Case number": "C-1",
        "Incident date": "2026-05-01",
        "Amount": "-12.5",  # a number (as stored) stays a number
        "Notes": '\'=HYPERLINK("http://evil.example/")',  # free text a spreadsheet would run is made text
        "email (data)": "solicitor@example.com",
    }
    assert row["OFF"]["phone"] == "+12025550143"
    assert row["OFF"]["agent"] == ""
    assert row["OFF"]["cancellation reason"] == "'+1+2 @SUM(A1) said no"
    assert row["OFF"]["session start (local)"] == row["OFF"]["session end (local)"] == ""
    assert (row["OFF"]["Case number"], row["OFF"]["Notes"]) == ("C-2", "")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("+447911123456", "+447911123456"),
        ("-12.50", "-12.50"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("=1", "'=1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+44 7911 123456", "'+44 7911 123456"),
        ("\t=1", "'\t=1"),
        ("12", "12"),
    ],
)
def test_only_plain_numbers_may_start_like_a_formula(value: str, cell: str) -> None:
    from appointments.exports import _cell

    assert _cell(value) == cell


def test_the_data_columns_cost_one_query_per_chunk_not_per_row(department, desk) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(desk)

    def queries(count: int) -> int:
        for n in range(count):
            when = timezone.now() + timedelta(days=3, minutes=n * 61)
            make_appointment(department, appointment_at=when, claimant={"name": f"C{n}", "data": {"Case number": "X"}})
        with CaptureQueriesContext(connection) as captured:
            _header, rows = exported(client.get(EXPORT, {"show": "all"}))
        assert all(r["Case number"] == "X" for r in rows)
        return len(captured)

    assert queries(2) == queries(25)


@pytest.mark.parametrize(
    "query",
    [
        "bogus=1",
        "appointment_at__gte=garbage",
        "appointment_at__year=abc",
        "appointment_at__year=99999",
        "appointment_at__year=2027&appointment_at__month=13",
        "agent__id__exact=abc",
        "is_interpreter_needed__exact=maybe",
        "id__in=1,2",
    ],
)
def test_a_filter_the_list_cannot_apply_is_answered_as_the_list_answers_it(department, desk, query) -> None:
    make_appointment(department)
    client = logged_in(desk)
    client.raise_request_exception = False
    listing = client.get(f"{LIST}?{query}")
    export = client.get(f"{EXPORT}?{query}")
    assert listing.status_code == 302
    assert (export.status_code, export["Location"]) == (302, listing["Location"]) == (302, f"{LIST}?e=1")


def test_the_data_columns_are_those_of_the_departments_exported_and_seen(department, other_department, desk) -> None:
    """Each field of a department the exporter may see is a column when an appointment of that department is
    exported (found by one appointment, not by reading every one exported: issue 26.3)."""
    third = DepartmentFactory.create(name="Third")  # the desk's, with a field, nothing exported from it
    third.members.add(desk)
    ClaimantDataFieldFactory.create(department=third, name="Policy", type=FieldType.STRING)
    other_department.members.add(desk)
    ClaimantDataFieldFactory.create(department=other_department, name="Claim", type=FieldType.STRING)
    unseen = DepartmentFactory.create(name="Unseen")  # not the desk's: its fields never show
    ClaimantDataFieldFactory.create(department=unseen, name="Secret", type=FieldType.STRING)
    make_appointment(unseen)
    make_appointment(department, claimant={"name": "A", "data": {"Case number": "X"}})
    cancelled = make_appointment(other_department)
    appointment_cancel(appointment=cancelled, reason=None, actor=None)
    client = logged_in(desk)

    header, rows = exported(client.get(EXPORT, {"show": "all"}))
    assert len(rows) == 2
    assert {"Case number", "Claim"} <= set(header)
    assert not {"Policy", "Secret"} & set(header)

    header, rows = exported(client.get(EXPORT, {"show": "all", "status__exact": "cancelled"}))
    assert len(rows) == 1
    assert "Claim" in header
    assert not {"Case number", "Policy", "Secret"} & set(header)
