"""A claimant moves their own appointment from their link (issue 23.2), in a real browser against a real server, the
server's clock frozen on Monday 22 March 2027 at 07:00 GMT (this process's, which the live server shares): they
confirm who they are on the "Change or cancel" page days ahead, by keyboard, choose one of their agent's free times
(today at 14:00) and confirm it; the agent's Today list in the back office shows the appointment at its new time; a
webhook receiver started here gets `appointment.rescheduled` with the claimant as its actor; the claimant's email
carries an .ics with the booking's UID and a higher SEQUENCE. The department allows one reschedule: the page then
refuses a second and shows the department's contact details. Every step is axe-clean."""

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from appointments.availability import BookingRules, WorkingHours
from appointments.models import Appointment
from tests.e2e.conftest import accessibility_violations
from tests.factories import UserFactory, make_appointment
from tests.helpers import Receiver, browser_sign_in, run_tasks
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"
NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday, 07:00 GMT
BOOKED = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)  # Wednesday, 10:00 GMT
MOVED = datetime(2027, 3, 22, 14, 0, tzinfo=UTC)  # today, 14:00 GMT


@pytest.fixture
def clock(monkeypatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def ics_of(message: Any) -> Any:
    [(_name, content, _mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    return Calendar.from_ical(content).walk("VEVENT")[0]


def test_a_claimant_reschedules_from_their_link_then_reaches_the_limit(
    live_server, page, department, settings, clock, axe_source
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    department.time_zone = "Europe/London"
    department.contact_phone = "020 7123 4567"
    department.contact_hours = "Monday to Friday, 9am to 5pm"
    department.save(update_fields=["time_zone", "contact_phone", "contact_hours"])
    BookingRules.objects.create(department=department, slot_minutes=60, max_claimant_reschedules=1)
    dana = UserFactory.create(username="dana", first_name="Dana", last_name="Desk", is_staff=True)
    dana.set_password(PASSWORD)
    dana.save()
    dana.groups.add(Group.objects.get(name="Agents"))
    department.members.add(dana)
    for weekday in range(5):
        WorkingHours.objects.create(
            department=department, agent=dana, weekday=weekday, starts_at=time(9), ends_at=time(17)
        )
    base = live_server.url

    with Receiver() as receiver:
        Endpoint.objects.create(department=department, url=receiver.url)
        claimant = {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "date_of_birth": date(1990, 5, 17),
            "data": {"Case number": "C-1"},
        }
        appointment = make_appointment(
            department, appointment_at=BOOKED, duration_in_minutes=60, claimant=claimant, agent_id=dana.pk
        )
        run_tasks()  # the booking's email and webhook
        booked_ics = ics_of(mail.outbox[-1])
        mail.outbox.clear()

        # The claimant's page, days ahead: "Change or cancel" asks who they are first, on its own form.
        page.goto(appointment.url)
        page.click("#change-or-cancel")
        page.wait_for_selector("#change-identity-form")
        assert accessibility_violations(page, axe_source) == []
        page.focus("#dob-day")
        page.keyboard.type("17")
        page.keyboard.press("Tab")
        page.keyboard.type("5")
        page.keyboard.press("Tab")
        page.keyboard.type("1990")
        page.keyboard.press("Enter")
        page.wait_for_selector("#choose-form")
        assert accessibility_violations(page, axe_source) == []

        # One of Dana's free times, chosen and confirmed by keyboard.
        page.get_by_label("Monday 22 March 2027 at 14:00 GMT").check()
        page.focus("#choose-time")
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirm-time")
        assert "To: Monday 22 March 2027 at 14:00 GMT" in page.inner_text("main")
        assert accessibility_violations(page, axe_source) == []
        page.focus("#confirm-time")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Your appointment has moved")
        assert accessibility_violations(page, axe_source) == []
        moved = Appointment.objects.get(pk=appointment.pk)
        assert (moved.appointment_at, moved.agent_id) == (MOVED, dana.pk)
        assert page.url.startswith(appointment.url)  # the link stays the same

        run_tasks()  # the webhook and the email of the move

    # The receiver got the move, with the claimant as its actor.
    rescheduled = [event for event in receiver.events() if event["type"] == "appointment.rescheduled"]
    assert len(rescheduled) == 1
    claimant_participant = appointment.participants.get(role="claimant")
    assert rescheduled[0]["data"]["actor"] == {"type": "claimant", "participant_id": str(claimant_participant.pk)}
    assert rescheduled[0]["data"]["appointment"]["appointment_at"] == "2027-03-22T14:00:00.000Z"

    # The claimant's email: the same calendar entry, moved (same UID, higher SEQUENCE).
    [email] = [message for message in mail.outbox if "ada@example.com" in message.to]
    moved_ics = ics_of(email)
    assert str(moved_ics["UID"]) == str(booked_ics["UID"])
    assert int(moved_ics["SEQUENCE"]) > int(booked_ics["SEQUENCE"])
    assert moved_ics.decoded("DTSTART") == MOVED

    # A second reschedule is beyond the department's limit: refused, with its contact details instead.
    page.goto(f"{appointment.url}/change")
    refused = page.inner_text("#change-time")
    assert "You have already changed the time as many times as Claims allows" in refused
    assert page.locator("#choose-form").count() == 0
    contact = page.inner_text(".contact")
    assert "+44 20 7123 4567" in contact
    assert "Monday to Friday, 9am to 5pm" in contact
    assert accessibility_violations(page, axe_source) == []

    # The agent's day: Dana's Today list in the back office shows the appointment at its new time.
    staff_page = page.context.browser.new_context().new_page()
    browser_sign_in(staff_page, base, "dana", PASSWORD)
    staff_page.goto(f"{base}/admin/appointments/appointment/")
    today = staff_page.inner_text("#result_list tbody")
    assert moved.reference in today
    assert "14:00 GMT" in today  # today's list: the clock alone
    staff_page.context.close()

    assert page.console_errors == []
    assert [(s, u) for s, u in page.failed_responses if not u.endswith("/favicon.ico")] == []
