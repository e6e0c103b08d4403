"""The back office's booking form offers free times (issue 23.4): the next free times of the agent chosen (any
agent's, each with the round robin's agent, when none is), inside working hours and clear of appointments; one
chosen books it; the length starts at the department's slot length; "Show free times" shows the form again as typed
with the free times of another agent or length, booking nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import time_machine

from appointments.availability import BookingRules, WorkingHours
from appointments.forms import staff_name
from appointments.models import Appointment, Department
from tests.factories import make_appointment
from tests.helpers import logged_in, staff

pytestmark = pytest.mark.django_db

BOOK = "/admin/appointments/appointment/add/"
NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday, 07:00 GMT


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hours(department: Department):
    """Dana and Eli work Mondays 09:00 to 11:00 London time; slots of 30 minutes, 15 minutes' buffer after."""
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    BookingRules.objects.create(department=department, slot_minutes=30, buffer_after_minutes=15)
    dana, eli = staff("dana", department), staff("eli", department)
    for agent in (dana, eli):
        WorkingHours.objects.create(department=department, agent=agent, weekday=0, starts_at=time(9), ends_at=time(11))
    return dana, eli


def offered(form) -> dict[str, str]:
    return {value: str(label) for value, label in form.fields["free_time"].choices if value}


def test_the_form_offers_the_chosen_agents_free_times_in_hours_and_clear_of_appointments(
    clock, department, hours
) -> None:
    dana, _eli = hours
    at = datetime(2027, 3, 22, 9, 30, tzinfo=UTC)
    make_appointment(department, appointment_at=at, duration_in_minutes=30, agent_id=dana.pk)
    client = logged_in(dana)
    page = client.get(BOOK)
    form = page.context["form"]
    assert form["duration_in_minutes"].value() == 30  # the department's slot length, not 60
    shown = client.post(BOOK, {"agent": str(dana.pk), "duration_in_minutes": "30", "claimant_name": "Typed",
                               "show_free_times": "Show free times"})  # fmt: skip
    assert shown.status_code == 200
    form = shown.context["form"]
    assert not form.is_bound  # shown again as typed, nothing checked or booked
    assert form["claimant_name"].value() == "Typed"
    today = [label for value, label in offered(form).items() if value.startswith("2027-03-22")]
    # 09:00 would run into 09:30's appointment, 10:00 into its 15 minutes' buffer; 11:00 is after hours.
    assert today == ["Mon 22 Mar 2027, 10:30 GMT"]
    assert f"2027-03-22T10:30:00+00:00|{dana.pk}" in offered(form)
    assert list(offered(form).values())[1] == "Mon 29 Mar 2027, 09:00 BST"  # next Monday, clocks gone forward
    assert not Appointment.objects.filter(claimant__name="Typed").exists()


def test_any_agent_offers_each_time_once_with_the_round_robins_agent(clock, department, hours) -> None:
    dana, eli = hours
    make_appointment(department, appointment_at=datetime(2027, 3, 22, 9, 0, tzinfo=UTC), agent_id=dana.pk)
    form = logged_in(dana).get(BOOK).context["form"]
    today = {value: label for value, label in offered(form).items() if value.startswith("2027-03-22")}
    assert today == {  # Eli never had one: each time is his first; Dana's appointment takes none of his
        f"2027-03-22T{at}:00+00:00|{eli.pk}": f"Mon 22 Mar 2027, {at} GMT, {staff_name(eli)}"
        for at in ("09:00", "09:30", "10:00", "10:30")
    }


def test_a_free_time_chosen_books_it_with_its_agent(clock, department, hours) -> None:
    dana, eli = hours
    client = logged_in(dana)
    case = department.data_fields.get(name="Case number")
    value = f"2027-03-22T10:00:00+00:00|{dana.pk}"  # neither had one yet: the round robin's tie goes by id
    assert value in offered(client.get(BOOK).context["form"])
    body = {"free_time": value, "duration_in_minutes": "30", "claimant_name": "Phoned In", f"data_{case.pk}": "PH-1"}
    response = client.post(BOOK, body)
    assert response.status_code == 302, response.context["form"].errors
    booked = Appointment.objects.get(claimant__name="Phoned In")
    assert (booked.appointment_at, booked.agent_id, booked.duration_in_minutes) == (
        datetime(2027, 3, 22, 10, tzinfo=UTC),
        dana.pk,
        30,
    )
    now_offered = offered(client.get(BOOK).context["form"])
    assert value not in now_offered  # Dana's now: 10:00 is Eli's
    assert f"2027-03-22T10:00:00+00:00|{eli.pk}" in now_offered
    again = client.post(BOOK, {**body, "claimant_name": "Second"})
    assert again.status_code == 200
    assert again.context["form"].errors["free_time"] == ["That time is no longer free: choose another."]
    assert not Appointment.objects.filter(claimant__name="Second").exists()


def test_the_help_names_the_agent_as_written(clock, department, hours) -> None:
    dana, _eli = hours
    dana.first_name, dana.last_name = "Dana", "Reid"
    dana.save(update_fields=["first_name", "last_name"])
    shown = logged_in(dana).post(BOOK, {"agent": str(dana.pk), "duration_in_minutes": "30",
                                        "show_free_times": "Show free times"})  # fmt: skip
    help_text = str(shown.context["form"].fields["free_time"].help_text)
    assert help_text.startswith("Dana Reid's working hours, clear of their appointments")  # not "Dana reid's"
    any_agent = logged_in(dana).post(BOOK, {"agent": "", "duration_in_minutes": "30",
                                            "show_free_times": "Show free times"})  # fmt: skip
    assert str(any_agent.context["form"].fields["free_time"].help_text).startswith("Any agent's working hours")
