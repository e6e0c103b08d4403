"""A camera or microphone the visitor refused, in a real browser that refuses it (no fake prompt granting all):
the device check shows that it failed, no green tick, and how to allow access in this browser; joining still
works, and the meeting starts with what was refused muted."""

from typing import Any

import pytest

from appointments.models import Appointment
from meetings.models import Participant, Role
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)
# The journey's fixtures: an appointment ten minutes ahead with a date of birth on record, the video stub, an agent.
journey = journeys.journey
video_stub = journeys.video_stub


def into_the_meeting(page: Any, journey: dict[str, Any]) -> dict[str, Any]:
    """Identity and consent, the waiting room, the agent starts: the options the page gave the meeting."""
    appointment: Appointment = journey["appointment"]
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
    api = journey["api"]
    response = api.patch(f"/api/v1/appointments/{appointment.pk}", {"status": "in_progress"}, format="json")
    assert response.status_code == 200
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    return page.evaluate("() => window.__jitsi.options.configOverwrite")


def test_a_refused_camera_shows_the_failure_and_help_and_the_meeting_starts_with_video_muted(
    page_allowed, journey, axe_source
) -> None:
    appointment: Appointment = journey["appointment"]
    page = page_allowed("microphone")
    page.goto(appointment.url)
    page.click("#device-check")
    page.wait_for_selector("#step-device.problem")
    assert page.locator("#step-device.done").count() == 0  # no green tick
    step = page.inner_text("#step-device")
    assert "Your camera is blocked by your browser" in step
    assert "Microphone: working" in step
    assert "You can still join: your camera will be off" in step
    assert page.is_visible("#device-help")
    assert page.get_attribute("#device-help details[data-browser='chromium']", "open") is not None
    assert accessibility_violations(page, axe_source) == []
    check = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).device_check
    assert check is not None
    assert (check["camera"], check["camera_problem"], check["microphone"]) == (False, "blocked", True)
    assert "microphone_problem" not in check

    config = into_the_meeting(page, journey)
    assert (config["startWithVideoMuted"], config["startWithAudioMuted"]) == (True, False)
    assert "camera" in config["toolbarButtons"]  # to turn it on once access is allowed
    assert page.console_errors == []


def test_a_refused_camera_and_microphone_start_the_meeting_muted(page_allowed, journey) -> None:
    appointment: Appointment = journey["appointment"]
    page = page_allowed()
    page.goto(appointment.url)
    page.click("#device-check")
    page.wait_for_selector("#step-device.problem")
    assert "Your camera and microphone are blocked by your browser" in page.inner_text("#step-device")
    config = into_the_meeting(page, journey)
    assert (config["startWithVideoMuted"], config["startWithAudioMuted"]) == (True, True)
    assert page.console_errors == []


def test_the_test_call_with_fake_devices_level_speakers_choice_and_audio_only(browser, journey, axe_source) -> None:
    """Chromium's fake camera and microphone (a beeping tone), allowed for the site: after the check the self-view
    and the microphone's level stay live (also in the waiting room), the devices can be chosen, the test sound plays
    and the answer is kept; the verdict is plain words; joining by audio only starts the meeting with video off."""
    appointment: Appointment = journey["appointment"]
    context = browser.new_context(permissions=["camera", "microphone"])
    page = _watched(context)
    page.goto(appointment.url)
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    assert page.inner_text("#device-verdict") == "Good for video"
    assert "kbit/s" not in page.inner_text("#step-device")
    # The self-view and the level, live again after the step's reload, and the fake microphone heard on the meter.
    page.wait_for_selector("#test-call[data-started='1']")
    page.wait_for_function("() => document.getElementById('preview').readyState >= 2")
    page.wait_for_function("() => parseFloat(document.getElementById('test-call').dataset.peak || '0') > 0")
    assert page.locator("#camera-choice option").count() >= 1
    assert page.locator("#microphone-choice option").count() >= 1
    assert page.is_visible("#device-choice")

    # The speakers: the test sound plays, "Did you hear it?", yes.
    page.click("#play-sound")
    page.wait_for_selector("#heard-question", state="visible")
    assert page.get_attribute("#test-call", "data-played") == "1"
    page.click("#heard-yes")
    page.wait_for_selector("text=You heard the test sound.")
    check = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).device_check
    assert check is not None
    assert check["speaker_heard"] is True
    assert check["microphone_peak"] > 0
    assert check["connection_to"] == "video"  # timed against the video platform's host, which the page could reach
    assert check["downlink_kbps"] > 0
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []

    # Audio only: kept, and the meeting starts with the camera off.
    with page.expect_navigation():  # the answer is kept, then the page reloads as after every step
        page.check("#audio-only")
    assert page.is_checked("#audio-only")
    check = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).device_check
    assert check is not None
    assert check["audio_only"] is True
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
    # In the waiting room the self-view and the level carry on.
    page.wait_for_selector("#test-call[data-started='1']")
    page.wait_for_function("() => document.getElementById('preview').readyState >= 2")
    assert page.is_visible("#preview")
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    response = journey["api"].patch(f"/api/v1/appointments/{appointment.pk}", {"status": "in_progress"}, format="json")
    assert response.status_code == 200
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    config = page.evaluate("() => window.__jitsi.options.configOverwrite")
    assert (config["startWithVideoMuted"], config["startAudioOnly"], config["startWithAudioMuted"]) == (
        True,
        True,
        False,
    )
    assert page.console_errors == []
    context.close()
