"""The back office's reschedule offers the agent's free times (issue 23.4), as the booking form books into them: the
appointment's page lists its agent's next free times (in hours, clear of their other appointments and buffers, this
appointment's own time left free), and choosing one moves the appointment there through the service."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import time_machine

from appointments.availability import BookingRules, WorkingHours
from appointments.models import Appointment, Department
from tests.factories import make_appointment
from tests.helpers import admin_change_url, admin_form_data, logged_in, staff

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday, 07:00 GMT


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_change_page_offers_the_agents_free_times_and_one_chosen_moves_it(clock, department: Department) -> None:
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    BookingRules.objects.create(department=department, slot_minutes=60, buffer_after_minutes=30)
    dana = staff("dana", department)
    WorkingHours.objects.create(department=department, agent=dana, weekday=0, starts_at=time(9), ends_at=time(13))
    booked = make_appointment(department, appointment_at=datetime(2027, 3, 22, 9, tzinfo=UTC), agent_id=dana.pk)
    make_appointment(department, appointment_at=datetime(2027, 3, 22, 11, tzinfo=UTC), agent_id=dana.pk)
    client = logged_in(dana)
    form = client.get(admin_change_url(booked)).context["adminform"].form
    offered = [label for value, label in form.fields["free_time"].choices if value]
    # 09:00 is its own time; 10:00 with its buffer meets 11:00's appointment, 12:00 meets that one's buffer.
    assert [label for label in offered if "22 Mar" in label] == []
    assert offered[0] == "Mon 29 Mar 2027, 09:00 BST"  # next Monday, after the clocks go forward
    WorkingHours.objects.create(department=department, agent=dana, weekday=0, starts_at=time(13), ends_at=time(17))
    form = client.get(admin_change_url(booked)).context["adminform"].form
    choices = dict(form.fields["free_time"].choices)
    assert "2027-03-22T13:00:00+00:00" in choices
    data = admin_form_data(client, booked)
    data["free_time"] = "2027-03-22T13:00:00+00:00"
    response = client.post(admin_change_url(booked), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Appointment.objects.get(pk=booked.pk).appointment_at == datetime(2027, 3, 22, 13, tzinfo=UTC)
