"""The appointment's change page offers both readings of a time the clocks repeat, as the booking form does (issue
24.5): the night the clocks go back in London (31 October 2027: 02:00 BST becomes 01:00 GMT) 01:30 comes twice and
is offered as 01:30 BST and 01:30 GMT; the night they go forward (28 March 2027: 01:00 GMT becomes 02:00 BST) 01:30
does not exist and is refused in the form's words. Time is frozen a few days before each night, so the nights stay
in the future (the service refuses a move into the past)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from appointments.models import Appointment
from tests.factories import make_appointment
from tests.helpers import admin_change_url as change_url
from tests.helpers import admin_form_data as form_data
from tests.helpers import logged_in, staff

BEFORE_AUTUMN = datetime(2027, 10, 25, 9, 0, tzinfo=UTC)
BEFORE_SPRING = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
FIRST = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST, the first 01:30 of that night
SECOND = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 01:30 GMT, the second
READING = "appointment_at_2"  # the time's third input: which reading


@pytest.fixture
def moment() -> datetime:
    return BEFORE_AUTUMN


@pytest.fixture
def desk(department, moment) -> Iterator[Client]:
    """A staff member signed in at the frozen `moment` (their session as fresh as the clock)."""
    with time_machine.travel(moment, tick=False):
        yield logged_in(staff("reading-agent", department))


def errors_of(response: Any) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


def test_a_time_that_comes_twice_shows_both_readings_with_the_stored_one_chosen(desk, department) -> None:
    appointment = make_appointment(department, appointment_at=SECOND)
    page = desk.get(change_url(appointment)).content.decode()
    assert "<legend>Which 01:30</legend>" in page
    assert "The clocks go back that night: 01:30 happens twice." in page
    assert f'type="radio" name="{READING}" value="0" id="id_{READING}_0">' in page
    assert f'type="radio" name="{READING}" value="1" id="id_{READING}_1" checked>' in page  # 01:30 GMT, as stored
    assert f'<label for="id_{READING}_0"><input' in page
    assert "01:30 BST</label>" in page
    assert "01:30 GMT</label>" in page


def test_a_time_that_happens_once_offers_no_choice(desk, department) -> None:
    appointment = make_appointment(department, appointment_at=datetime(2027, 10, 31, 3, 30, tzinfo=UTC))
    page = desk.get(change_url(appointment)).content.decode()
    assert "Which 03:30" not in page
    assert f'name="{READING}"' not in page


@pytest.mark.parametrize(("reading", "stored"), [("0", FIRST), ("1", SECOND)])
def test_moving_to_a_time_that_comes_twice_asks_which_and_stores_the_one_chosen(
    desk, department, reading, stored
) -> None:
    appointment = make_appointment(department, appointment_at=datetime(2027, 10, 29, 10, 0, tzinfo=UTC))
    versions = Appointment.history.filter(id=appointment.pk).count()
    data = form_data(desk, appointment) | {"appointment_at_0": "2027-10-31", "appointment_at_1": "01:30"}

    asked = desk.post(change_url(appointment), data)
    assert asked.status_code == 200
    assert errors_of(asked)["appointment_at"] == [
        "01:30 happens twice that day in Europe/London (the clocks go back): choose 01:30 BST or 01:30 GMT."
    ]
    page = asked.content.decode()
    assert f'type="radio" name="{READING}" value="0"' in page  # offered now, none chosen yet
    assert f'type="radio" name="{READING}" value="1"' in page
    assert " checked" not in page.split(f'name="{READING}"')[1].split("</fieldset>")[0]
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == appointment.appointment_at
    assert Appointment.history.filter(id=appointment.pk).count() == versions

    chosen = desk.post(change_url(appointment), data | {READING: reading})
    assert chosen.status_code == 302, errors_of(chosen)
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == stored
    assert Appointment.history.filter(id=appointment.pk).count() == versions + 1


def test_choosing_the_other_reading_of_the_same_time_moves_it_an_hour(desk, department) -> None:
    appointment = make_appointment(department, appointment_at=SECOND)
    data = form_data(desk, appointment) | {READING: "1"}
    assert desk.post(change_url(appointment), data).status_code == 302  # the stored reading: unchanged
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == SECOND
    versions = Appointment.history.filter(id=appointment.pk).count()

    moved = desk.post(change_url(appointment), data | {READING: "0"})  # the same date and time, 01:30 BST
    assert moved.status_code == 302, errors_of(moved)
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == FIRST
    assert Appointment.history.filter(id=appointment.pk).count() == versions + 1


def test_saving_unchanged_with_the_reading_shown_writes_nothing(desk, department) -> None:
    appointment = make_appointment(department, appointment_at=FIRST)
    versions = Appointment.history.filter(id=appointment.pk).count()
    # As the browser posts it: the time as shown and the reading checked (01:30 BST, the first).
    response = desk.post(change_url(appointment), form_data(desk, appointment) | {READING: "0"})
    assert response.status_code == 302, errors_of(response)
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == FIRST
    assert Appointment.history.filter(id=appointment.pk).count() == versions


def test_a_reading_left_from_another_time_is_ignored(desk, department) -> None:
    """The staff member chose 01:30 GMT, then typed 10:15 instead: 10:15 happens once, the reading says nothing."""
    appointment = make_appointment(department, appointment_at=SECOND)
    data = form_data(desk, appointment) | {"appointment_at_1": "10:15", READING: "1"}
    response = desk.post(change_url(appointment), data)
    assert response.status_code == 302, errors_of(response)
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == datetime(2027, 10, 31, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize("moment", [BEFORE_SPRING])
def test_a_time_the_clocks_skip_is_refused_in_the_forms_words(desk, department) -> None:
    appointment = make_appointment(department, appointment_at=datetime(2027, 3, 26, 10, 0, tzinfo=UTC))
    data = form_data(desk, appointment) | {"appointment_at_0": "2027-03-28", "appointment_at_1": "01:30"}
    response = desk.post(change_url(appointment), data)
    assert response.status_code == 200
    assert errors_of(response)["appointment_at"] == [
        "01:30 does not exist that day in Europe/London (the clocks go forward)."
    ]
    page = response.content.decode()
    assert "appointment_at field" not in page  # no API path
    assert "appointment at field" not in page
    assert f'name="{READING}"' not in page  # nothing to choose: it never happens
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == datetime(2027, 3, 26, 10, 0, tzinfo=UTC)
