"""The waiting room that reassures, in real browsers (issue 22.6, 22.7): the claimant waits for their agent by name;
once the back office's waiting room has shown them, their page says the agent knows they are here; the agent sees
their language, device check verdict and wait, the count of people waiting in the tab's title, and sends a prepared
message and a text, each shown on the claimant's page within one poll (no reload, the text escaped); when the
session starts the claimant's tab title says so before the meeting opens."""

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_update
from meetings.models import Participant, Role, WaitingMessage
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.helpers import browser_sign_in

pytestmark = pytest.mark.django_db(transaction=True)
# The journey's fixtures: an appointment ten minutes ahead that records, the video stub, the agent "desk".
journey = journeys.journey
video_stub = journeys.video_stub


def into_the_waiting_room(page: Any) -> None:
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


def same_day_zone() -> str:
    """A zone in which the appointment (ten minutes ahead) is on the staff member's today whatever the hour the test
    runs at: the waiting room lists today's appointments only."""
    now = timezone.now()
    for zone in ("Europe/London", "Pacific/Honolulu", "Asia/Tokyo"):
        local = ZoneInfo(zone)
        if now.astimezone(local).date() == (now + timedelta(minutes=15)).astimezone(local).date():
            return zone
    raise AssertionError("no zone found")


def test_the_agents_message_reaches_the_waiting_claimant_within_one_poll(
    live_server, browser, page, journey, axe_source
) -> None:
    appointment: Appointment = journey["appointment"]
    department = appointment.department
    department.time_zone = same_day_zone()
    department.save(update_fields=["time_zone"])
    desk_user = User.objects.get(username="desk")
    assert appointment_update(appointment=appointment, data={"agent_id": desk_user.pk}, actor=None).agent_id
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(appointment.url)
    into_the_waiting_room(page)
    assert page.inner_text("#waiting-for") == "You are waiting for Dana Desk."
    assert page.is_hidden("#staff-know")
    page.evaluate("() => { window.__samePage = true; }")  # gone if the page reloads

    # The agent opens the waiting room: the claimant's page says, by itself, that the agent knows.
    desk = browser.new_context().new_page()
    browser_sign_in(desk, live_server.url, "desk", journeys.PASSWORD)
    desk.goto(f"{live_server.url}/admin/appointments/appointment/waiting-room/")
    row = desk.locator(f"tr[data-appointment='{appointment.pk}']")
    facts = row.inner_text()
    assert "Language: English" in facts
    assert "Device check: Good for video" in facts
    assert "Waiting for 0 min" in facts
    desk.wait_for_function("() => document.title.startsWith('(1) Waiting room')")
    page.wait_for_selector("#staff-know:has-text('Dana Desk knows you are here.')", state="visible", timeout=5_000)

    # A prepared message, then a text with markup: each shown as text within a poll (one second here).
    row.locator("select[name=prepared]").select_option("running_late_10")
    row.locator("button.send-message").click()
    desk.wait_for_selector("text=Your message to Ada Lovelace is sent.")
    page.wait_for_selector("#agent-message-text:has-text('I am running ten minutes late.')", timeout=3_000)
    assert page.inner_text("#agent-message-heading") == "Message from Dana Desk"
    assert page.inner_text("#waiting-news") == "Message from Dana Desk: I am running ten minutes late."
    row = desk.locator(f"tr[data-appointment='{appointment.pk}']")
    row.locator("input[name=text]").fill("<img src=x id=injected> Two minutes")
    row.locator("button.send-message").click()
    desk.wait_for_selector("text=Your message to Ada Lovelace is sent.")
    page.wait_for_selector("#agent-message-text:has-text('Two minutes')", timeout=3_000)
    assert page.inner_text("#agent-message-text") == "<img src=x id=injected> Two minutes"
    assert page.locator("#injected").count() == 0
    assert page.evaluate("() => window.__samePage") is True  # shown in place: no reload
    person = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    assert [m.prepared or m.text for m in WaitingMessage.objects.filter(participant=person).order_by("created_at")] == [
        "running_late_10",
        "<img src=x id=injected> Two minutes",
    ]
    assert person.shown_to_staff_at is not None
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    page.emulate_media(color_scheme="dark")
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    assert accessibility_violations(desk, axe_source, WCAG22_AA) == []

    # The agent starts: the claimant's tab title says so, then the meeting opens.
    page.check("#admit-sound")
    desk.locator(f"tr[data-appointment='{appointment.pk}'] button.start-session").click()
    page.wait_for_function("() => document.title.startsWith('You are let in')", timeout=5_000)
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    assert page.console_errors == []
    desk.context.close()


def test_the_keyboard_keeps_its_place_on_start_when_the_rows_are_drawn_again(
    live_server, browser, journey, settings
) -> None:
    """Walked with the keyboard (2026-12-05): at each redraw (a change, or once a minute) the focus fell from Start to
    the page, and the next Tab went back to the first row's link. Every control of a row now has an id, which the
    redraw gives the focus back to."""
    settings.LIVE_POLL_SECONDS = 1
    appointment: Appointment = journey["appointment"]
    department = appointment.department
    department.time_zone = same_day_zone()
    department.save(update_fields=["time_zone"])
    desk = browser.new_context().new_page()
    browser_sign_in(desk, live_server.url, "desk", journeys.PASSWORD)
    desk.goto(f"{live_server.url}/admin/appointments/appointment/waiting-room/")
    start = f"tr[data-appointment='{appointment.pk}'] button.start-session"
    on_start = f'() => document.activeElement === document.querySelector("{start}")'
    desk.locator(start).focus()
    assert desk.evaluate(on_start)

    appointment_update(appointment=appointment, data={"duration_in_minutes": 45}, actor=None)  # a change: a redraw
    desk.wait_for_function("() => document.getElementById('waiting-rows').dataset.liveDrawn >= '1'", timeout=5_000)
    assert desk.evaluate(on_start)
    desk.keyboard.press("Shift+Tab")  # the keyboard goes on from Start: back to its row's claimant, before it
    assert desk.evaluate("() => document.activeElement.id") == f"claimant-{appointment.pk}"
    desk.context.close()
