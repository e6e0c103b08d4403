"""No lost place on the claimant's Change or cancel page (issue 22.3 on the page of issue 23.2), in a real browser:
after each step (the identity check, wrong then right; a time chosen; confirmed; a cancel asked and confirmed) focus
is on the new step's heading, or on the field in error, and the result is said in the live region the page's script
(static/meetings/join.js, the same as the claimant's page) adds empty and fills after the page has loaded."""

from datetime import UTC, date, datetime, time

import pytest
from django.utils import timezone

from appointments.availability import BookingRules, WorkingHours
from appointments.models import Appointment, Status
from tests.factories import UserFactory, make_appointment

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday, 07:00 GMT
BOOKED = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)  # Wednesday, 10:00 GMT


@pytest.fixture
def clock(monkeypatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def focused(page) -> str:
    return str(page.evaluate("document.activeElement.tagName + ': ' + document.activeElement.textContent.trim()"))


def said(page, text: str) -> str:
    page.wait_for_selector(f"#step-announcement:has-text({text!r})", state="attached")
    return " ".join(str(page.text_content("#step-announcement")).split())


def test_each_step_moves_focus_and_is_announced(live_server, page, department, settings, clock) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    BookingRules.objects.create(department=department, slot_minutes=60)
    ann = UserFactory.create(username="ann", is_staff=True)
    department.members.add(ann)
    for weekday in range(5):
        WorkingHours.objects.create(
            department=department, agent=ann, weekday=weekday, starts_at=time(9), ends_at=time(17)
        )
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    appointment = make_appointment(
        department, appointment_at=BOOKED, duration_in_minutes=60, claimant=claimant, agent_id=ann.pk
    )

    page.goto(f"{appointment.url}/change")
    assert page.text_content("#step-announcement") == ""  # nothing done yet: nothing said, focus left alone
    assert focused(page).startswith("BODY")

    # A wrong date of birth: focus on the day, the error said.
    page.fill("#dob-day", "1")
    page.fill("#dob-month", "1")
    page.fill("#dob-year", "2001")
    page.click("#confirm-identity")
    assert said(page, "does not match").startswith("That date of birth does not match our records.")
    assert page.evaluate("document.activeElement.id") == "dob-day"

    # The right one: the page's heading, and "Confirmed."
    page.fill("#dob-day", "17")
    page.fill("#dob-month", "5")
    page.fill("#dob-year", "1990")
    page.click("#confirm-identity")
    assert said(page, "Confirmed.") == "Confirmed."
    assert focused(page) == "H1: Change or cancel your appointment"

    # A time chosen: the confirm step's heading, and the time said.
    page.get_by_label("Tuesday 23 March 2027 at 10:00 GMT").check()
    page.click("#choose-time")
    assert said(page, "To:") == "To: Tuesday 23 March 2027 at 10:00 GMT"
    assert focused(page) == "H1: Confirm your new time"

    # Confirmed: moved, said.
    page.click("#confirm-time")
    assert said(page, "Your new time") == "Your new time is Tuesday 23 March 2027 at 10:00 GMT."
    assert focused(page) == "H1: Your appointment has moved"
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == datetime(2027, 3, 23, 10, tzinfo=UTC)

    # A cancel, asked then confirmed.
    page.goto(f"{appointment.url}/change")
    page.fill("#reason", "Unwell")
    page.click("#cancel-appointment")
    assert said(page, "Your appointment on") == "Your appointment on Tuesday 23 March 2027 at 10:00 GMT"
    assert focused(page) == "H1: Cancel your appointment?"
    page.click("#confirm-cancel")
    assert said(page, "We have told").startswith("We have told")
    assert focused(page) == "H1: Your appointment is cancelled"
    assert Appointment.objects.get(pk=appointment.pk).status == Status.CANCELLED

    assert page.console_errors == []
