"""The managers' numbers (issue 24.7): the dashboard over a range of days, per agent (appointments, completed,
no-shows, missed by the organisation, average wait, average overrun), and the same as CSV; queries constant in the
number of agents."""

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment, Department, Outcome, Status
from appointments.numbers import AgentNumbers
from meetings.models import Participant, Role
from tests.factories import make_appointment
from tests.helpers import logged_in, rewrite, staff

pytestmark = pytest.mark.django_db

URL = "/admin/appointments/appointment/dashboard/"
CSV_URL = URL + "agents.csv"


def first_day(department: Department) -> date:
    return timezone.now().astimezone(ZoneInfo(department.time_zone)).date() + timedelta(days=10)


def book(department: Department, agent: User | None, day: date, hour: int, reference: str) -> Appointment:
    when = datetime.combine(day, time(hour), tzinfo=ZoneInfo(department.time_zone))
    claimant = {"name": f"Claimant {reference}", "data": {"Case number": reference}}
    made = make_appointment(
        department,
        agent_id=agent.pk if agent else None,
        appointment_at=when,
        duration_in_minutes=30,
        reference=reference,
        claimant=claimant,
    )
    return made


def completed(appointment: Appointment, *, minutes_over: int, waited: timedelta | None = None) -> None:
    end = appointment.appointment_at + timedelta(minutes=30 + minutes_over)
    rewrite(
        Appointment.objects.filter(pk=appointment.pk),
        status=Status.COMPLETED,
        session_started_at=appointment.appointment_at,
        session_ended_at=end,
    )
    if waited is not None:
        rewrite(
            Participant.objects.filter(appointment=appointment, role=Role.CLAIMANT),
            joined_waiting_at=appointment.appointment_at - waited,
            admitted_at=appointment.appointment_at,
        )


def streamed(response: Any) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


@pytest.fixture
def manager(department: Department) -> Client:
    return logged_in(staff("manager", department, group="Department managers"))


@pytest.fixture
def week(department: Department) -> tuple[date, date, User, User]:
    """Two agents' week, ten days ahead, and what lies just outside it."""
    dana = staff("dana", department)
    dana.first_name, dana.last_name = "Dana", "Reid"
    dana.save()
    zed = staff("=zed", department)  # a name a spreadsheet would run as a formula
    day = first_day(department)
    completed(book(department, dana, day, 9, "D1"), minutes_over=10, waited=timedelta(minutes=3))
    completed(book(department, dana, day, 11, "D2"), minutes_over=-5, waited=timedelta(minutes=5))  # ended early
    no_show = book(department, dana, day + timedelta(days=1), 9, "D3")
    rewrite(Appointment.objects.filter(pk=no_show.pk), status=Status.NO_SHOW)
    missed = book(department, dana, day + timedelta(days=2), 9, "D4")
    rewrite(
        Appointment.objects.filter(pk=missed.pk),
        status=Status.CANCELLED,
        outcome=Outcome.MISSED_BY_ORGANISATION,
        cancelled_at=missed.appointment_at,
    )
    book(department, dana, day + timedelta(days=3), 9, "D5")  # still scheduled
    completed(book(department, zed, day + timedelta(days=6), 23, "Z1"), minutes_over=4)  # the last day's evening
    book(department, None, day + timedelta(days=4), 9, "N1")
    book(department, dana, day + timedelta(days=7), 9, "OUT")  # the day after the range
    return day, day + timedelta(days=6), dana, zed


def test_the_dashboard_shows_each_agents_numbers_over_the_range(manager: Client, week) -> None:
    first, last, dana, zed = week
    response = manager.get(URL, {"from": first.isoformat(), "to": last.isoformat()})
    assert response.status_code == 200
    assert response.context["agents"] == [
        AgentNumbers(
            agent_id=zed.pk,
            agent="=zed",
            appointments=1,
            completed=1,
            no_shows=0,
            missed=0,
            average_wait=None,
            waits_recorded=0,
            average_overrun=timedelta(minutes=4),
            overruns_recorded=1,
        ),
        AgentNumbers(
            agent_id=dana.pk,
            agent="Dana Reid",
            appointments=5,
            completed=2,
            no_shows=1,
            missed=1,
            average_wait=timedelta(minutes=4),
            waits_recorded=2,
            average_overrun=timedelta(minutes=5),  # 10 minutes over and an early end (0): 5 on average
            overruns_recorded=2,
        ),
        AgentNumbers(
            agent_id=None,
            agent="Nobody assigned",
            appointments=1,
            completed=0,
            no_shows=0,
            missed=0,
            average_wait=None,
            waits_recorded=0,
            average_overrun=None,
            overruns_recorded=0,
        ),
    ]
    assert response.context["summary"]["total"] == 7
    assert len(response.context["summary"]["rows"]) == 7
    page = response.content.decode()
    assert '<th scope="row">Dana Reid</th><td>5</td><td>2</td><td>1</td><td>1</td>' in page
    # Each average beside how many it is of (the CSV had the counts, the page not: found walking it, 2026-12-05).
    assert "<td>4 min 00 s</td><td>2</td>" in page
    assert "<td>5 min 00 s</td><td>2</td></tr>" in page
    assert "<td>—</td><td>0</td>" in page  # nobody's wait recorded: none averaged, none counted
    assert f"agents.csv?from={first.isoformat()}&amp;to={last.isoformat()}" in page


def test_the_csv_has_the_same_numbers(manager: Client, week) -> None:
    first, last, _dana, _zed = week
    response = manager.get(CSV_URL, {"from": first.isoformat(), "to": last.isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="agents-{first:%Y%m%d}-{last:%Y%m%d}.csv"'
    text = streamed(response).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["from", first.isoformat(), "to", last.isoformat()],
        [
            "agent",
            "appointments",
            "completed",
            "no-shows",
            "missed by the organisation",
            "average wait (seconds)",
            "claimants' waits recorded",
            "average overrun (seconds)",
            "completed sessions timed",
        ],
        ["'=zed", "1", "1", "0", "0", "", "0", "240", "1"],
        ["Dana Reid", "5", "2", "1", "1", "240", "2", "300", "2"],
        ["Nobody assigned", "1", "0", "0", "0", "", "0", "", "0"],
    ]


def test_a_range_it_cannot_take_falls_back_to_this_week_saying_why(manager: Client) -> None:
    for asked, said in (
        ({"from": "2026-10-09", "to": "2026-10-01"}, "The last day is before the first."),
        ({"from": "2026-01-01", "to": "2027-06-01"}, "Choose at most 366 days."),
        ({"from": "soon", "to": ""}, "Enter both days as dates"),
    ):
        response = manager.get(URL, asked, follow=True)
        assert response.status_code == 200
        assert said in response.content.decode()
        assert (response.context["last_day"] - response.context["first_day"]).days == 6
        assert response.context["first_day"].weekday() == 0


def test_agents_may_not_read_the_numbers(department: Department) -> None:
    agent = logged_in(staff("dana", department))
    assert agent.get(URL).status_code == 403
    assert agent.get(CSV_URL).status_code == 403


def test_queries_stay_the_same_as_agents_are_added(department: Department, manager: Client) -> None:
    first = first_day(department)
    asked = {"from": first.isoformat(), "to": (first + timedelta(days=6)).isoformat()}

    made: list[int] = []

    def queries(agents: int) -> tuple[int, int]:
        for n in range(agents):
            agent = staff(f"agent-{agents}-{n}", department)
            appointment = book(department, agent, first + timedelta(days=n % 7), 8 + agents % 3, f"Q{agents}-{n}")
            completed(appointment, minutes_over=n, waited=timedelta(minutes=n))
        made.append(agents)
        with CaptureQueriesContext(connection) as page:
            assert len(manager.get(URL, asked).context["agents"]) == sum(made)
        with CaptureQueriesContext(connection) as export:
            response = manager.get(CSV_URL, asked)
            streamed(response)
        return len(page), len(export)

    one = queries(1)
    assert queries(8) == one
