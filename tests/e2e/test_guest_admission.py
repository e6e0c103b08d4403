"""A guest's link opened while the session is running, in real browsers (issue 17.9): the guest waits in the waiting
room instead of going straight into the confidential call, the agent sees them in the back office's waiting room
with their role and their "no" to the recording, admits them there, and the guest's page opens the meeting by
itself. The recording stays the organisation's: the agent's token keeps it."""

import re
from typing import Any

import jwt
import pytest

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from meetings.devices import participant_record_device_check
from meetings.models import Participant
from meetings.services import participant_invite_guest, participant_record_consent, participant_url
from meetings.services.journey import participant_join
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.factories import a_browser
from tests.helpers import browser_sign_in, claimant_joins

pytestmark = pytest.mark.django_db(transaction=True)
# The journey's fixtures: an appointment ten minutes ahead that records, the video stub, the agent "desk".
journey = journeys.journey
video_stub = journeys.video_stub


def test_a_guest_waits_during_the_session_until_the_agent_admits_them(
    live_server, browser, page, journey, axe_source, tmp_path
) -> None:
    appointment: Appointment = journey["appointment"]
    claimant_joins(appointment)
    appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=None)

    # The guest opens the link on a phone while the call is running.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(participant_url(guest))
    assert page.inner_text(".greeting") == "Hello Sam Solicitor, you are joining as guest."
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    page.check("#consent-no")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#step-consent.done")
    assert "Your agent is told before letting you in" in page.inner_text("#step-consent")
    assert page.inner_text("#join-form button[type=submit]") == "Join the waiting room"
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("h1:has-text('You are in the waiting room')")
    waiting_text = page.inner_text(".waiting")
    assert "The appointment has started. Your agent can see that you are waiting, as guest" in waiting_text
    assert page.locator("#meeting").count() == 0  # not in the call
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    assert accessibility_violations(page, axe_source) == []
    page.emulate_media(color_scheme="dark")
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    page.emulate_media(color_scheme="light")
    page.screenshot(path=str(tmp_path / "guest-waiting.png"), full_page=True)
    assert Participant.objects.get(pk=guest.pk).admitted_at is None

    # The agent sees the guest in the waiting room, with their role and their no, and lets them in.
    agent = browser.new_context().new_page()
    browser_sign_in(agent, live_server.url, "desk", journeys.PASSWORD)
    agent.goto(f"{live_server.url}/admin/appointments/appointment/waiting-room/")
    person = agent.locator(f"[data-participant='{guest.pk}']")
    assert "Guest Sam Solicitor: waiting to be let in" in " ".join(person.inner_text().split())
    # Its name starts with the words it shows (WCAG 2.5.3), then whom it admits.
    button = person.get_by_role("button", name=re.compile(r"^Admit \(said no to recording\)\s*: Sam Solicitor, guest$"))
    assert button.is_visible()
    assert accessibility_violations(agent, axe_source, WCAG22_AA) == []
    button.click()
    agent.wait_for_selector("text=Sam Solicitor (guest) is admitted. They said no to the recording")

    # The guest's page notices by itself and opens the meeting, as the guest (no moderator, no recording).
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    options: dict[str, Any] = page.evaluate("() => window.__jitsi.options")
    claims = jwt.decode(options["jwt"], journeys.SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["context"]["user"] == {
        "id": str(guest.pk),
        "name": "Sam Solicitor",
        "moderator": False,
        "role": "guest",
    }
    admitted = Participant.objects.get(pk=guest.pk)
    assert admitted.admitted_at is not None
    assert admitted.admitted_by is not None
    assert admitted.admitted_by.username == "desk"

    # A reload keeps the admitted guest in the meeting.
    page.reload()
    page.wait_for_selector("#stub-meeting")

    # The guest's no is the agent's to act on: the agent's meeting still records, and says who said no.
    agent.goto(f"{live_server.url}/admin/appointments/appointment/{appointment.pk}/meeting/")
    agent.wait_for_selector("#stub-meeting")
    assert "Said no to the recording: Sam Solicitor." in agent.inner_text("main")
    agent_claims = jwt.decode(
        agent.evaluate("() => window.__jitsi.options")["jwt"], journeys.SECRET, algorithms=["HS256"], audience="jitsi"
    )
    assert agent_claims["context"]["features"]["recording"] == "true"

    # Another guest arrives during the call: the agent's meeting page shows them and admits them in place.
    other = participant_invite_guest(appointment=appointment, display_name="Lee Relative", actor=None)
    browser_of_other = a_browser()
    participant_record_device_check(
        participant=other, results={"camera": True, "microphone": True}, browser=browser_of_other
    )
    participant_record_consent(participant=other, consent=True, browser=browser_of_other)
    participant_join(participant=Participant.objects.get(pk=other.pk), browser=browser_of_other)
    agent.wait_for_selector("#admission-list li:has-text('Lee Relative (guest)')", timeout=15_000)
    found = accessibility_violations(agent, axe_source, WCAG22_AA)
    # The test's stand-in for the video platform draws its marker on the dark stage: not the service's markup.
    assert [v for v in found if v["nodes"] != [["#stub-meeting"]]] == []
    agent.get_by_role("button", name="Admit Lee Relative").click()
    agent.wait_for_selector("#admission", state="hidden", timeout=15_000)
    assert Participant.objects.get(pk=other.pk).admitted_at is not None
    assert agent.locator("#stub-meeting").count() == 1  # still in the call
    assert page.console_errors == []
    agent.context.close()
