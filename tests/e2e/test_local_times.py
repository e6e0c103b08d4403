"""The change page of an appointment in another zone than the browser's, in a real browser: its time says the
department's zone, and Django's "You are N hours behind server time" note, which compared the browser's zone with
the page's and was wrong for the appointment's, does not appear (issue 17.10)."""

from typing import Any

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory, make_appointment
from tests.helpers import browser_sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"


@pytest.mark.parametrize(
    ("browser_zone", "department_zone"), [("Europe/London", "Europe/Paris"), ("Asia/Tokyo", "America/New_York")]
)
def test_the_time_input_names_the_departments_zone_and_no_server_time_note(
    live_server, browser: Any, department, browser_zone: str, department_zone: str
) -> None:
    department.time_zone = department_zone
    department.save()
    agent = UserFactory.create(username="desk", is_staff=True)
    agent.set_password(PASSWORD)
    agent.save()
    agent.groups.add(Group.objects.get(name="Agents"))
    department.members.add(agent)
    appointment = make_appointment(department)
    context = browser.new_context(timezone_id=browser_zone)
    try:
        page = context.new_page()
        browser_sign_in(page, live_server.url, "desk", PASSWORD)
        page.goto(f"{live_server.url}/admin/appointments/appointment/{appointment.pk}/change/")
        page.wait_for_load_state("load")  # Django's calendar script adds its note on load, where it runs
        field = page.inner_text(".field-appointment_at")
        assert "server time" not in page.inner_text("#content")
        assert f"Time ({department_zone.replace('_', ' ')})" in field
        assert "In the department's time zone; the API shows it in UTC." in field
    finally:
        context.close()
