"""The claimant's link is bound to a browser, in real browsers (each Playwright context is a browser of its own,
with its own cookies): a second browser is asked again and, once it passes, takes over, and the first page says
so by itself; two tabs of one browser never both stay in; wrong answers count per browser and per link."""

import hashlib
from typing import Any

import pytest

from appointments.models import Appointment
from meetings.models import Participant, Role
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.conftest import accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)
# The journey's fixtures: an appointment ten minutes ahead with a date of birth on record, the video stub, an agent.
journey = journeys.journey
video_stub = journeys.video_stub


def checked_in(page: Any, appointment: Appointment) -> None:
    """Device check, identity and consent done on this page, then into the waiting room."""
    page.goto(appointment.url)
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    page.fill("#dob-day", "17")
    page.fill("#dob-month", "5")
    page.fill("#dob-year", "1990")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector(".greeting:has-text('Hello Ada Lovelace')")
    page.check("#consent-yes")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#step-consent.done")
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("h1:has-text('You are in the waiting room')")


def browser_cookie(context: Any) -> dict[str, Any]:
    [cookie] = [c for c in context.cookies() if c["name"] == "join_browser"]
    return cookie


def test_a_second_browser_is_asked_again_takes_over_and_the_first_page_is_told(
    browser, page, journey, axe_source
) -> None:
    appointment: Appointment = journey["appointment"]
    checked_in(page, appointment)
    cookie = browser_cookie(page.context)
    link_path = f"/join/{appointment.public_token}"
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", link_path)
    assert "join_browser" not in page.evaluate("() => document.cookie")  # not readable by script

    other = browser.new_context().new_page()
    other.goto(appointment.url)
    assert other.inner_text("h1") == "This appointment was opened elsewhere"
    assert "Ada" not in other.content()
    assert accessibility_violations(other, axe_source) == []
    other.fill("#dob-day", "17")
    other.fill("#dob-month", "5")
    other.fill("#dob-year", "1990")
    other.click("#identity-form button[type=submit]")
    other.wait_for_selector("h1:has-text('You are in the waiting room')")

    page.wait_for_selector("h1:has-text('This appointment was opened elsewhere')", timeout=15_000)
    assert "Ada" not in page.content()
    key = browser_cookie(other.context)["value"].split(":")[0]
    held = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).browser_digest
    assert held == hashlib.sha256(key.encode()).hexdigest()
    assert page.console_errors == []
    other.context.close()


def test_two_tabs_of_one_browser_never_both_stay_in(page, journey) -> None:
    appointment: Appointment = journey["appointment"]
    checked_in(page, appointment)
    second = page.context.new_page()
    second.goto(appointment.url)
    assert second.inner_text("h1") == "You are in the waiting room"
    page.wait_for_selector("#other-tab:has-text('This appointment is open in another tab')")
    assert page.is_hidden("#leave-form")
    assert second.is_hidden("#other-tab")
    page.click("#use-this-tab")
    second.wait_for_selector("#other-tab:has-text('This appointment is open in another tab')")
    assert page.is_visible("#leave-form")
    assert page.console_errors == []


def test_wrong_answers_count_per_browser_and_per_link(browser, page, journey, settings, axe_source) -> None:
    settings.IDENTITY_MAX_FAILURES = 5
    settings.IDENTITY_LINK_MAX_FAILURES = 8
    appointment: Appointment = journey["appointment"]
    forwarded = page
    forwarded.goto(appointment.url)
    for left in (4, 3, 2, 1):
        forwarded.fill("#dob-day", "2")
        forwarded.fill("#dob-month", "2")
        forwarded.fill("#dob-year", "2002")
        forwarded.click("#identity-form button[type=submit]")
        forwarded.wait_for_selector(f"#identity-error:has-text('{left} tr')")
    forwarded.fill("#dob-day", "2")
    forwarded.fill("#dob-month", "2")
    forwarded.fill("#dob-year", "2002")
    forwarded.click("#identity-form button[type=submit]")
    forwarded.wait_for_selector("h1:has-text('This link is locked in this browser')")
    assert accessibility_violations(forwarded, axe_source) == []

    own = browser.new_context().new_page()  # the claimant's own browser may still try, until the link's limit
    own.goto(appointment.url)
    own.fill("#dob-day", "3")
    own.fill("#dob-month", "3")
    own.fill("#dob-year", "2003")
    own.click("#identity-form button[type=submit]")
    own.wait_for_selector("#identity-error:has-text('2 tries left')")  # the link's 8 less the 6 made
    own.fill("#dob-day", "17")
    own.fill("#dob-month", "5")
    own.fill("#dob-year", "1990")
    own.click("#identity-form button[type=submit]")
    own.wait_for_selector(".greeting:has-text('Hello Ada Lovelace')")
    person = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    assert (person.identity_failures, person.identity_locked_at) == (6, None)
    assert forwarded.console_errors == []
    own.context.close()
