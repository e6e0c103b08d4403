"""No lost place (issue 22.3): after a step, done with the keyboard alone, the page moves focus to the next step's
heading and announces the result in a live region, which the accessibility tree shows."""

from typing import Any

import pytest

from appointments.models import Appointment
from appointments.services import appointment_cancel
from meetings.models import Participant, Role
from meetings.waiting import participant_send_message
from tests.e2e.test_claimant_journey import journey, video_stub  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_identity_step_by_keyboard_moves_focus_and_announces_it(live_server, page: Any, journey) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/join/{journey['appointment'].public_token}")
    page.focus("#dob-day")
    page.keyboard.type("17")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.keyboard.type("1990")
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-announcement:has-text('Confirmed.')", state="attached")
    assert page.text_content("#step-announcement") == "Confirmed."
    assert page.evaluate("document.activeElement.tagName") == "H2"
    # The first step still to do: this claimant skipped the device check, so focus is on its heading.
    assert page.evaluate("document.activeElement.textContent") == "Check your camera and microphone"
    assert page.get_by_role("status").filter(has_text="Confirmed.").count() == 1
    assert page.console_errors == []


def announced(page: Any, text: str) -> int:
    """How many live regions (role status, in the accessibility tree) say `text`."""
    return int(page.get_by_role("status").filter(has_text=text).count())


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.tagName + ': ' + document.activeElement.textContent.trim()"))


def test_steps_done_by_the_pages_script_announce_and_move_focus_too(live_server, page: Any, journey) -> None:  # noqa: F811
    """The steps that the page's script carries (the device check's verdict, the test call's answer, news in the
    waiting room, being let in, a change staff made) are announced and move focus like a posted step."""
    appointment: Appointment = journey["appointment"]
    page.goto(f"{live_server.url}/join/{appointment.public_token}")

    # The device check, by keyboard: its verdict is announced after the page shows it, focus on the next step.
    page.focus("#device-check")
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-announcement:has-text('Good for video')", state="attached", timeout=15_000)
    assert announced(page, "Good for video") == 1
    assert focused(page) == "H2: Confirm who you are"

    # The test call's answer (the speaker test): saved, announced, focus on the step still to do.
    page.focus("#play-sound")
    page.keyboard.press("Enter")
    page.wait_for_selector("#heard-question", state="visible")
    page.keyboard.press("Enter")  # "Yes" has focus
    page.wait_for_selector("#step-announcement:has-text('Saved.')", state="attached", timeout=15_000)
    assert focused(page) == "H2: Confirm who you are"
    assert page.locator("text=You heard the test sound.").count() == 1

    for field, value in (("#dob-day", "17"), ("#dob-month", "5"), ("#dob-year", "1990")):
        page.fill(field, value)
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector("#consent-form")
    page.check("#consent-yes")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#step-consent.done")
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#waiting-details")
    page.evaluate("() => { document.activeElement.blur(); window.__samePage = true; }")

    # A message in the waiting room, shown in place: announced, and focus goes to it (nothing else had focus).
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    participant_send_message(participant=claimant, actor=None, prepared="running_late_10")
    page.wait_for_selector("#waiting-news:has-text('I am running ten minutes late.')", state="attached")
    assert announced(page, "I am running ten minutes late.") == 1
    assert focused(page).startswith("H3: Message from")
    assert page.evaluate("() => window.__samePage") is True
    # While the person is using a control, a later message is announced and leaves their focus where it is.
    page.focus("#admit-sound")
    participant_send_message(participant=claimant, actor=None, text="Two minutes")
    page.wait_for_selector("#waiting-news:has-text('Two minutes')", state="attached")
    assert page.evaluate("document.activeElement.id") == "admit-sound"

    # Let in: announced before the meeting opens, and again with focus on the meeting's heading after it does.
    response = journey["api"].patch(f"/api/v1/appointments/{appointment.pk}", {"status": "in_progress"}, format="json")
    assert response.status_code == 200
    page.wait_for_selector("#waiting-news:has-text('You are let in')", state="attached", timeout=10_000)
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    page.wait_for_selector("#step-announcement:has-text('You are let in')", state="attached")
    assert announced(page, "You are let in") == 1
    assert focused(page) == "H1: Your appointment"
    assert page.console_errors == []


def test_a_change_while_waiting_is_announced_with_focus_on_the_new_heading(live_server, page: Any, journey) -> None:  # noqa: F811
    appointment: Appointment = journey["appointment"]
    page.goto(f"{live_server.url}/join/{appointment.public_token}")
    page.wait_for_selector("#device-check")
    appointment_cancel(appointment=Appointment.objects.get(pk=appointment.pk), reason="", actor=None)
    cancelled = "#step-announcement:has-text('This appointment was cancelled')"
    # One poll, a reload and the announcement: seconds, but under CI's load (12 on 2 cores) once more than 15.
    page.wait_for_selector(cancelled, state="attached", timeout=30_000)
    assert announced(page, "This appointment was cancelled") == 1
    assert focused(page) == "H1: This appointment was cancelled"


def _tab_to(page: Any, selector: str, presses: int = 40) -> None:
    """Press Tab, and only Tab, until the element `selector` has the focus."""
    for _press in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} never took the focus in {presses} presses of Tab")


def _lands_on(page: Any, announcement: str, tag: str, heading: str) -> None:
    page.wait_for_selector(f"#step-announcement:has-text('{announcement}')", state="attached")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent.trim()]")
    assert focused == [tag, heading]


def test_the_whole_journey_by_keyboard_alone_lands_on_each_next_step(live_server, page: Any, journey) -> None:  # noqa: F811
    """Link, device check, identity, consent, waiting room: keys only, and after each step focus is on the next
    step's heading (the waiting room's own heading at the end) with the step's result announced."""
    page.goto(f"{live_server.url}/join/{journey['appointment'].public_token}")
    _tab_to(page, "#device-check")
    page.keyboard.press("Enter")
    _lands_on(page, "Good for video", "H2", "Confirm who you are")

    _tab_to(page, "#dob-day")
    page.keyboard.type("17")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.keyboard.type("1990")
    page.keyboard.press("Enter")
    _lands_on(page, "Confirmed.", "H2", "Recording")

    _tab_to(page, "#consent-yes")
    page.keyboard.press("Space")
    _tab_to(page, "#consent-form button[type=submit]")
    page.keyboard.press("Enter")
    _lands_on(page, "Saved.", "H2", "Join the waiting room")

    _tab_to(page, "#join-form button[type=submit]")
    page.keyboard.press("Enter")
    _lands_on(page, "Joined.", "H1", "You are in the waiting room")
    assert page.console_errors == []
