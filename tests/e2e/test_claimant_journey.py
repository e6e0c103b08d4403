"""The appointment itself, in a real browser against a real server: a claimant passes the device check (fake
camera and microphone), the identity check and consent, and waits; the API shows `waiting`; the agent starts the
session from the back office's waiting room; the claimant's page opens the meeting by itself; ending it sends
the claimant to the custom redirect. A second claimant is locked out after five wrong dates of birth.

Nothing leaves the machine: VIDEO_BASE_URL points at a stub served by this test, whose `external_api.js`
records the options the page gave it, and the custom redirect lands on the stub too.
"""

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments.models import Appointment, Status
from meetings.models import Participant, Role
from tests.e2e.conftest import accessibility_violations
from tests.factories import UserFactory, make_appointment
from tests.helpers import browser_sign_in
from tests.support import persona

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"
SECRET = "e2e-secret-0123456789abcdef0123456789"

# The stand-in for the video platform's IFrame API: it records what it was given and offers a "hang up".
STUB_SCRIPT = b"""
window.JitsiMeetExternalAPI = function (domain, options) {
  var listeners = {};
  var copy = Object.assign({}, options, { parentNode: null });
  window.__jitsi = { domain: domain, options: JSON.parse(JSON.stringify(copy)) };
  this.addListener = function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); };
  this.dispose = function () {};
  window.__hangUp = function () { (listeners.readyToClose || []).forEach(function (fn) { fn(); }); };
  var marker = document.createElement("p");
  marker.id = "stub-meeting";
  marker.textContent = "Stub meeting " + options.roomName;
  options.parentNode.appendChild(marker);
};
"""


class VideoStub(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        VideoStub.requests.append(self.path)
        cors = False
        if self.path == "/external_api.js":
            # The size of a real platform's script, so the device check can time the connection against it; read
            # across origins as a platform that allows it (issue 22.5).
            body, kind, cors = STUB_SCRIPT + b"//" + b"-" * 64 * 1024 + b"\n", "application/javascript", True
        elif self.path == "/thanks":
            body, kind = b"<!doctype html><title>Thanks</title><h1>Thanks from the organisation</h1>", "text/html"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if cors:
            self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def video_stub():
    VideoStub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), VideoStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def journey(settings, live_server, video_stub, department):
    settings.VIDEO_BASE_URL = video_stub
    settings.PUBLIC_BASE_URL = live_server.url
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = SECRET
    settings.STATUS_POLL_SECONDS = 1
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    agent = UserFactory.create(username="desk", first_name="Dana", last_name="Desk", is_staff=True)
    agent.set_password(PASSWORD)
    agent.save()
    agent.groups.add(Group.objects.get(name="Agents"))
    department.members.add(agent)
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    appointment = make_appointment(
        department,
        appointment_at=timezone.now() + timedelta(minutes=10),
        duration_in_minutes=30,
        claimant=claimant,
        features_call_recording_enable=True,
        features_messages_chat_enable=False,
        features_bandwidth="medium",
        use_custom_post_call_redirect=True,
        custom_user_post_call_redirect_url=f"{video_stub}/thanks",
    )
    return {"appointment": appointment, "stub": video_stub, "api": persona("integration", department).client()}


def same_origin_bytes(page, base: str) -> int:
    sizes = page.evaluate(
        "() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))"
        ".map(e => [e.name, e.encodedBodySize])"
    )
    return sum(size for name, size in sizes if name.startswith(base) and "/status" not in name)


def test_a_claimant_attends_the_appointment(live_server, browser, page, journey, axe_source, tmp_path) -> None:
    base = live_server.url
    artefacts = tmp_path
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: most claimants join from one
    appointment: Appointment = journey["appointment"]
    page.goto(appointment.url)

    # Before the identity check: the department and the time, nothing personal.
    assert page.inner_text("h1") == "Your video appointment"
    assert "Ada" not in page.content()
    assert accessibility_violations(page, axe_source) == []
    page.screenshot(path=str(artefacts / "claimant-before-checks.png"), full_page=True)
    weight = same_origin_bytes(page, base)
    assert weight < 100 * 1024, weight
    print(f"\nclaimant page weight without the video platform's script: {weight} bytes")

    # Device check with the fake camera and microphone: the preview plays, the results are kept.
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    assert claimant.device_check is not None
    assert claimant.device_check["camera"] is True
    assert claimant.device_check["microphone"] is True
    assert claimant.device_check["downlink_kbps"] > 0

    # Identity: a wrong date first, then the right one.
    page.fill("#dob-day", "1")
    page.fill("#dob-month", "1")
    page.fill("#dob-year", "1991")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector("#identity-error:has-text('4 tries left')")
    page.fill("#dob-day", "17")
    page.fill("#dob-month", "5")
    page.fill("#dob-year", "1990")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector(".greeting:has-text('Hello Ada Lovelace')")

    # Consent to the recording, then the waiting room.
    page.check("#consent-yes")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#step-consent.done")
    assert accessibility_violations(page, axe_source) == []
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("h1:has-text('You are in the waiting room')")
    page.screenshot(path=str(artefacts / "claimant-waiting-room.png"), full_page=True)
    api = journey["api"]
    assert api.get(f"/api/v1/appointments/{appointment.pk}").json()["data"]["status"] == "waiting"

    # The agent starts the session from the waiting room and lands in the meeting as moderator.
    desk = browser.new_context().new_page()
    browser_sign_in(desk, base, "desk", PASSWORD)
    desk.goto(f"{base}/admin/appointments/appointment/waiting-room/")
    row = desk.locator(f"tr[data-appointment='{appointment.pk}']")
    assert "Waiting" in row.inner_text()
    row.locator("button.start-session").click()
    desk.wait_for_selector("#stub-meeting")
    agent_options = desk.evaluate("() => window.__jitsi.options")
    agent_claims = jwt.decode(agent_options["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    assert agent_claims["context"]["user"]["moderator"] is True
    assert agent_claims["context"]["features"]["recording"] == "true"

    # The claimant's page notices by itself and opens the meeting.
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    given = page.evaluate("() => window.__jitsi")
    assert given["domain"] == journey["stub"].removeprefix("http://")
    options = given["options"]
    room = appointment.meeting.room_url.rsplit("/", 1)[-1]
    assert options["roomName"] == room
    claims = jwt.decode(options["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert claims["room"] == room
    assert claims["nbf"] == int((fresh.appointment_at - timedelta(minutes=30)).timestamp())
    assert claims["exp"] == int((fresh.ends_at + timedelta(minutes=15)).timestamp())
    assert claims["context"]["user"] == {
        "id": str(claimant.pk),
        "name": "Ada Lovelace",
        "moderator": False,
        "role": "claimant",
    }
    assert options["userInfo"] == {"displayName": "Ada Lovelace"}
    config = options["configOverwrite"]
    assert "chat" not in config["toolbarButtons"]
    assert config["disableChat"] is True
    assert config["resolution"] == 540
    assert "/external_api.js" in VideoStub.requests

    # The agent ends the session: the claimant is sent to the custom redirect.
    assert (
        api.patch(f"/api/v1/appointments/{appointment.pk}", {"status": "completed"}, format="json").status_code == 200
    )
    page.wait_for_url(f"{journey['stub']}/thanks", timeout=15_000)
    assert Appointment.objects.get(pk=appointment.pk).status == Status.COMPLETED
    assert page.console_errors == []


def test_five_wrong_dates_of_birth_lock_the_link_until_staff_unlock_it(
    live_server, browser, page, journey, settings
) -> None:
    settings.IDENTITY_MAX_FAILURES = settings.IDENTITY_LINK_MAX_FAILURES = 5
    appointment: Appointment = journey["appointment"]
    page.goto(appointment.url)
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    for left in (4, 3, 2, 1):
        page.fill("#dob-day", "2")
        page.fill("#dob-month", "2")
        page.fill("#dob-year", "2002")
        page.click("#identity-form button[type=submit]")
        page.wait_for_selector(f"#identity-error:has-text('{left} tr')")
    page.fill("#dob-day", "2")
    page.fill("#dob-month", "2")
    page.fill("#dob-year", "2002")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector("h1:has-text('This link is locked')")
    assert "Ada" not in page.content()
    assert Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).identity_locked_at is not None

    # Staff unlock the link in the back office: the open page notices by itself and asks again.
    desk = browser.new_context().new_page()
    browser_sign_in(desk, live_server.url, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/admin/appointments/appointment/{appointment.pk}/change/")
    desk.click("button:has-text('Unlock identity check')")
    desk.wait_for_selector("text=The link is unlocked")
    page.wait_for_selector("#identity-form", timeout=15_000)
    assert page.inner_text("h1") == "Your video appointment"
    page.fill("#dob-day", "17")
    page.fill("#dob-month", "5")
    page.fill("#dob-year", "1990")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector(".greeting:has-text('Hello Ada Lovelace')")
    assert page.console_errors == []
    desk.context.close()
