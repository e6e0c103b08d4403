"""Readable in the light and the dark theme, and when the video platform cannot be reached (issue 17.13), in a real
browser against a real server, checked by axe-core against WCAG 2.2 AA with `prefers-color-scheme` emulated.

The waiting room in the dark theme coloured each waiting row like its badge: dark brown text on the theme's black.
When the video platform's script could not load, the meeting page wrote dark text on its dark stage, which covered
the page: no way back and, for the agent, no "End the session". The script's failure is a route that aborts the
request for it (nothing leaves the machine either way)."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_cancel
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.e2e.test_claimant_browsers import checked_in
from tests.factories import make_appointment
from tests.helpers import browser_sign_in, claimant_joins

pytestmark = pytest.mark.django_db(transaction=True)
journey = journeys.journey
video_stub = journeys.video_stub
SCHEMES = ["light", "dark"]


def desk_page(browser: Any, base: str, scheme: str, viewport: dict[str, int] | None = None) -> Any:
    """The agent signed in, in a browser whose visitor prefers `scheme`."""
    page = _watched(browser.new_context(color_scheme=scheme, **({"viewport": viewport} if viewport else {})))
    browser_sign_in(page, base, "desk", journeys.PASSWORD)
    return page


def video_fails(page: Any) -> None:
    """The video platform's script cannot be loaded (a firewall, the platform down)."""
    page.route("**/external_api.js", lambda route: route.abort("connectionrefused"))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_waiting_room_reads_in_both_themes(live_server, browser, journey, axe_source, scheme, tmp_path) -> None:
    department = journey["appointment"].department
    claimant_joins(journey["appointment"])
    for minutes, name in ((15, "Grace Hopper"), (20, "Alan Turing"), (25, "Katherine Johnson")):
        other = make_appointment(
            department,
            appointment_at=timezone.now() + timedelta(minutes=minutes),
            duration_in_minutes=5,
            claimant={"name": name, "data": {"Case number": name[:3]}},
        )
        if name != "Katherine Johnson":
            claimant_joins(other)
    page = desk_page(browser, live_server.url, scheme)
    page.goto(f"{live_server.url}/admin/appointments/appointment/waiting-room/")
    assert page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches") is (scheme == "dark")
    assert page.locator("tr.status-waiting").count() == 3
    page.screenshot(path=str(tmp_path / f"waiting-room-{scheme}.png"), full_page=True)
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    assert page.console_errors == []
    page.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_waiting_room_on_a_phone_fits_the_screen_and_its_links_read(
    live_server, browser, journey, axe_source, scheme, tmp_path
) -> None:
    """Walked at 390 px, the waiting room was 531 px wide with Start and Join off the screen, and a claimant's name
    (a link in the text of its cell) was told from that text by colour alone: 1.42:1 in the dark theme."""
    claimant_joins(journey["appointment"])
    make_appointment(
        journey["appointment"].department,
        appointment_at=timezone.now() + timedelta(minutes=20),
        duration_in_minutes=5,
        claimant={"name": "Grace Hopper", "data": {"Case number": "GRA"}},
    )
    # One cancelled: nothing to start or join, nobody waiting.
    done = make_appointment(
        journey["appointment"].department,
        appointment_at=timezone.now() + timedelta(minutes=1),
        duration_in_minutes=5,
        claimant={"name": "Alan Turing", "data": {"Case number": "TUR"}},
    )
    appointment_cancel(appointment=done, reason=None, actor=None)
    page = desk_page(browser, live_server.url, scheme, {"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/appointments/appointment/waiting-room/")
    assert page.locator("#waiting-room-table tbody tr").count() == 3
    # Walked again (2026-12-05): a row with no action read "Action:" and nothing after it; one nobody waits in,
    # "Waiting since:" likewise. A label shows only with something to label.
    row = page.locator(f"#waiting-room-table tr[data-appointment='{done.pk}']")
    assert row.locator("td[data-label='Action']").is_hidden()
    assert row.locator("td[data-label='Waiting since']").is_hidden()
    assert row.locator("td[data-label='Status']").is_visible()
    page.screenshot(path=str(tmp_path / f"waiting-room-390-{scheme}.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    action = page.locator("#waiting-room-table .start-session, #waiting-room-table a.button").first
    box = action.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    # Walked again (2026-12-05): Start was 38 by 19 pixels beside Join's 39 by 30, and said only "Start".
    for target in page.locator("#waiting-room-table .start-session, #waiting-room-table .join-session").all():
        size = target.bounding_box()
        assert size is not None
        assert size["height"] >= 30
        assert size["width"] >= 44
    name = re.compile(r"^Start the appointment of Grace Hopper, \d\d:\d\d G")
    assert page.get_by_role("button", name=name).count() == 1
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    assert page.console_errors == []
    page.context.close()


def claimant_in_the_meeting(page: Any, journey: dict[str, Any]) -> None:
    appointment: Appointment = journey["appointment"]
    checked_in(page, appointment)
    response = journey["api"].patch(f"/api/v1/appointments/{appointment.pk}", {"status": "in_progress"}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_claimant_whose_video_cannot_load_reads_what_to_do(browser, journey, axe_source, scheme) -> None:
    page = _watched(browser.new_context(color_scheme=scheme))
    video_fails(page)
    claimant_in_the_meeting(page, journey)
    page.wait_for_selector("#video-failed", state="visible", timeout=15_000)
    assert page.is_hidden("#meeting")  # the dark stage no longer covers the page
    text = page.inner_text("#video-failed")
    assert "The video could not be loaded" in text
    assert "still going on" in text
    assert page.evaluate("() => document.activeElement.id") == "video-failed-heading"
    assert page.is_visible("#video-failed a:has-text('Try again')")
    assert page.is_visible("#video-failed button:has-text('Leave the appointment')")
    assert page.is_visible(".contact")  # how to reach the department, below
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []

    # The way back: "Try again" loads the page again (here the platform is still unreachable: the same help).
    page.click("#video-failed a:has-text('Try again')")
    page.wait_for_selector("#video-failed", state="visible")
    page.click("#video-failed button:has-text('Leave the appointment')")
    page.wait_for_selector("#join-form button:has-text('Join now')")
    page.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_agent_whose_video_cannot_load_can_go_back_or_end_the_session(
    live_server, browser, journey, axe_source, scheme
) -> None:
    appointment: Appointment = journey["appointment"]
    claimant = browser.new_context().new_page()
    claimant_in_the_meeting(claimant, journey)
    page = desk_page(browser, live_server.url, scheme)
    video_fails(page)
    page.goto(f"{live_server.url}/admin/appointments/appointment/{appointment.pk}/meeting/")
    page.wait_for_selector("#video-failed", state="visible")
    assert page.is_hidden("#meeting")
    assert "The session is still in progress" in page.inner_text("#video-failed")
    assert page.is_visible("a:has-text('Back to the appointment')")
    assert page.is_visible("#end-session")
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone too, nothing hides the way out
    assert page.is_visible("#end-session")
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []

    page.click("#end-session")
    page.wait_for_url(f"**/admin/appointments/appointment/{appointment.pk}/change/")
    assert "has ended" in page.inner_text(".messagelist")
    assert Appointment.objects.get(pk=appointment.pk).status == Status.COMPLETED
    claimant.wait_for_url(f"{journey['stub']}/thanks", timeout=15_000)  # the claimant's page follows
    page.context.close()
    claimant.context.close()
