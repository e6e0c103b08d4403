"""GET /api/v1/departments/{department}/slots (issue 23.1): free times in working hours, clear of the agent's
appointments and buffers, across the change of clocks, with the contract's tenancy and errors."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from appointments.api.slots import shown, shown_minutes
from appointments.availability import BookingRules, HoursException, WorkingHours
from appointments.free_times import Calendar, from_minutes, to_minutes
from appointments.models import Appointment, Department
from appointments.slots import FreeMinutes, FreeTime
from tests.factories import UserFactory, make_appointment

NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday 22 March 2027, 07:00 GMT; the UK's clocks go forward on the 28th


def url(department: Department) -> str:
    return f"/api/v1/departments/{department.pk}/slots"


def staff(department: Department, name: str, hours: tuple[time, time] = (time(9), time(17))) -> User:
    user = UserFactory.create(username=name, is_staff=True)
    department.members.add(user)
    for weekday in range(5):
        WorkingHours.objects.create(
            department=department, agent=user, weekday=weekday, starts_at=hours[0], ends_at=hours[1]
        )
    return user


@pytest.fixture
def clock() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ruled(department: Department) -> Department:
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    BookingRules.objects.create(
        department=department,
        slot_minutes=60,
        buffer_before_minutes=15,
        buffer_after_minutes=15,
        notice_to_book_minutes=60,
    )
    return Department.objects.get(pk=department.pk)


def starts(api: APIClient, department: Department, day: str, **query: str | int) -> list[tuple[str, int | None]]:
    response = api.get(url(department), {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:00Z", **query})
    assert response.status_code == 200, response.json()
    return [(slot["start"], slot["agent_id"]) for slot in response.json()["data"]]


def test_an_agents_free_times_keep_clear_of_their_appointment_and_its_buffers(clock, api, ruled) -> None:
    ann = staff(ruled, "ann")
    make_appointment(ruled, appointment_at=datetime(2027, 3, 23, 10, tzinfo=UTC), agent_id=ann.pk)
    booked = Appointment.objects.get(agent=ann)
    assert (booked.buffer_before_minutes, booked.buffer_after_minutes) == (15, 15)  # taken with the rules' buffers
    found = starts(api, ruled, "2027-03-23", agent_id=ann.pk, duration_in_minutes=60)
    # 09:00 would end at 10:00 and its 15-minute buffer meet 09:45; 11:00's buffer meets 11:15.
    assert found == [(f"2027-03-23T{hour}:00:00.000Z", ann.pk) for hour in (12, 13, 14, 15, 16)]
    body = api.get(url(ruled), {"from": "2027-03-23T12:00:00Z", "to": "2027-03-23T12:01:00Z"}).json()
    assert body == {
        "data": [
            {
                "start": "2027-03-23T12:00:00.000Z",
                "end": "2027-03-23T13:00:00.000Z",
                "agent_id": ann.pk,
                "local_start": "2027-03-23T12:00:00+00:00",
            }
        ]
    }


def test_the_change_of_clocks_keeps_hours_on_the_local_clock(clock, api, ruled) -> None:
    ann = staff(ruled, "ann")
    friday = starts(api, ruled, "2027-03-26", agent_id=ann.pk)
    monday = api.get(url(ruled), {"from": "2027-03-29T00:00:00Z", "to": "2027-03-29T23:00:00Z"}).json()["data"]
    assert friday[0] == ("2027-03-26T09:00:00.000Z", ann.pk)  # 09:00 GMT
    assert (monday[0]["start"], monday[0]["local_start"]) == ("2027-03-29T08:00:00.000Z", "2027-03-29T09:00:00+01:00")
    assert monday[-1]["local_start"] == "2027-03-29T16:00:00+01:00"
    assert starts(api, ruled, "2027-03-28") == []  # Sunday: nobody works


def test_any_agent_is_the_round_robins_and_days_that_differ_count(clock, api, ruled) -> None:
    ann, bob = staff(ruled, "ann"), staff(ruled, "bob")
    make_appointment(ruled, appointment_at=datetime(2027, 3, 23, 10, tzinfo=UTC), agent_id=ann.pk)
    # Ann has had an appointment, Bob never: Bob is offered first wherever he is free.
    assert {agent for _start, agent in starts(api, ruled, "2027-03-24")} == {bob.pk}
    HoursException.objects.create(department=ruled, agent=bob, day=date(2027, 3, 24), note="Annual leave")
    HoursException.objects.create(
        department=ruled, agent=ann, day=date(2027, 3, 24), kind="extra", starts_at=time(17), ends_at=time(19)
    )
    on_leave = starts(api, ruled, "2027-03-24")
    assert on_leave == [(f"2027-03-24T{hour:02d}:00:00.000Z", ann.pk) for hour in range(9, 19)]
    HoursException.objects.create(department=ruled, day=date(2027, 3, 25), note="Bank holiday")
    assert starts(api, ruled, "2027-03-25") == []


def test_minimum_notice_and_horizon_bound_the_times(clock, api, ruled) -> None:
    ann = staff(ruled, "ann")
    BookingRules.objects.filter(department=ruled).update(notice_to_book_minutes=3 * 60, horizon_days=2)
    today = starts(api, ruled, "2027-03-22", agent_id=ann.pk)
    assert today[0][0] == "2027-03-22T10:00:00.000Z"  # now is 07:00: three hours' notice
    assert starts(api, ruled, "2027-03-25", agent_id=ann.pk) == []  # beyond two days ahead


def test_a_department_without_agents_hours_offers_its_own_unassigned(clock, api, ruled) -> None:
    WorkingHours.objects.create(department=ruled, weekday=1, starts_at=time(14), ends_at=time(16))
    assert starts(api, ruled, "2027-03-23") == [("2027-03-23T14:00:00.000Z", None), ("2027-03-23T15:00:00.000Z", None)]


def test_a_free_time_books_and_is_then_gone_and_a_second_booking_is_refused_with_the_next_times(
    clock, api, ruled
) -> None:
    ann = staff(ruled, "ann")
    first = api.get(url(ruled), {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z"}).json()["data"][0]
    body = {
        "appointment_at": first["start"],
        "duration_in_minutes": 60,
        "agent_id": first["agent_id"],
        "claimant": {"name": "Ada", "data": [{"name": "Case number", "value": "C-1"}]},
    }
    created = api.post("/api/v1/appointments", body, format="json")
    assert created.status_code == 201, created.json()
    assert starts(api, ruled, "2027-03-23")[0] == ("2027-03-23T11:00:00.000Z", ann.pk)  # 10:00 with buffers is gone
    again = api.post("/api/v1/appointments", {**body, "claimant": {**body["claimant"], "name": "Bea"}}, format="json")
    assert again.status_code == 422
    errors = again.json()["errors"]["agent_id"]
    assert errors[0].startswith("The agent already has appointment ")
    assert (
        errors[1]
        == "Free times from then: Tue 23 Mar 2027, 11:00 GMT; Tue 23 Mar 2027, 12:00 GMT; Tue 23 Mar 2027, 13:00 GMT."
    )
    assert Appointment.objects.filter(department=ruled).count() == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2027-03-23T00:00:00Z"}, "from"),
        ({"from": "2027-03-23T00:00:00Z"}, "to"),
        ({"from": "tomorrow", "to": "2027-03-23T00:00:00Z"}, "from"),
        ({"from": "2027-03-23T00:00:00Z", "to": "2027-03-22T00:00:00Z"}, "to"),
        ({"from": "2027-03-01T00:00:00Z", "to": "2027-04-02T00:00:00Z"}, "to"),
        (
            {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "duration_in_minutes": "4"},
            "duration_in_minutes",
        ),
        (
            {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "duration_in_minutes": "x"},
            "duration_in_minutes",
        ),
        ({"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "agent_id": "abc"}, "agent_id"),
        ({"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "agent_id": "999999"}, "agent_id"),
        (
            {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "interpreter_language": ""},
            "interpreter_language",
        ),
        (
            {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "interpreter_language": "x" * 101},
            "interpreter_language",
        ),
    ],
)
def test_every_parameter_is_checked(clock, api, ruled, query, field) -> None:
    response = api.get(url(ruled), query)
    assert response.status_code == 422
    body = response.json()
    assert list(body) == ["message", "errors"]
    assert list(body["errors"]) == [field]


def test_another_departments_slots_are_the_404_of_a_missing_one(clock, api, ruled, other_department) -> None:
    query = {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z"}
    missing = f"/api/v1/departments/{uuid.uuid4()}/slots"
    for path in (url(other_department), "/api/v1/departments/not-a-uuid/slots", missing):
        response = api.get(path, query)
        assert response.status_code == 404
        assert list(response.json()) == ["message"]


def test_an_agent_of_another_department_is_not_one_of_these(clock, api, ruled, other_department) -> None:
    stranger = staff(other_department, "stranger")
    response = api.get(
        url(ruled), {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z", "agent_id": stranger.pk}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"agent_id": ["The selected agent id is invalid."]}


def test_unauthenticated_is_401(client, ruled) -> None:
    assert client.get(url(ruled), {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z"}).status_code == 401


def test_the_query_count_does_not_grow_with_agents_or_days(clock, api, ruled) -> None:
    query = {"from": "2027-03-22T00:00:00Z", "to": "2027-04-21T00:00:00Z"}
    counts = []
    for n in range(2):
        for index in range(10):
            agent = staff(ruled, f"agent-{n}-{index}")
            make_appointment(
                ruled, appointment_at=datetime(2027, 3, 24 + index % 5, 9 + n, tzinfo=UTC), agent_id=agent.pk
            )
        api.get(url(ruled), query)  # the token's first use of the minute is written once
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url(ruled), query)
        assert response.status_code == 200
        assert len(response.json()["data"]) > 100
        counts.append(len(queries))
    # token, department, rules, hours with their agents, round robin, exceptions, busy
    assert counts[0] == counts[1] <= 7


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(["Europe/London", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]),
    day=st.sampled_from(
        [date(2027, 3, 28), date(2027, 10, 31), date(2027, 3, 14), date(2027, 11, 7), date(2027, 4, 4)]
    ),
    minute=st.integers(-1440, 2 * 1440),
    duration=st.integers(5, 240),
    agent=st.one_of(st.none(), st.integers(1, 10**6)),
)
def test_a_free_time_is_written_from_its_minutes_as_from_its_datetimes(zone, day, minute, duration, agent) -> None:
    # The API writes each free time from its minutes and the clock's offsets (issue 26): the same text as
    # milliseconds() and local_iso() give, across every change of clocks and an offset of whole quarter hours.
    calendar = Calendar(ZoneInfo(zone), day - timedelta(days=2), day + timedelta(days=2))
    moment = to_minutes(datetime.combine(day, time(), tzinfo=UTC)) + minute
    found = FreeMinutes([(moment, agent)], calendar.clock)
    expected = shown(FreeTime(from_minutes(moment), from_minutes(moment + duration), agent), Department(time_zone=zone))
    assert shown_minutes(found, duration) == [expected]


def test_an_interpreters_language_is_checked_and_narrows_nothing(clock, api, ruled) -> None:
    """Nothing in the model says which agent speaks which language (docs/decisions.md, issue 23.1's filter)."""
    staff(ruled, "ann")
    assert starts(api, ruled, "2027-03-23", interpreter_language="Polish") == starts(api, ruled, "2027-03-23")
