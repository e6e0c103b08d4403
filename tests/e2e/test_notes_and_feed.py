"""An agent's notes and own calendar feed in a real browser (issue 24.3 and 24.6): a note written by keyboard on an
appointment's page is listed with who wrote it and when; "My calendar feed" shows an address that a plain HTTP client
fetches as iCalendar (parsed by `icalendar`), and a new address makes the old one 404. The notes section and the
feed page are checked by axe-core against WCAG 2.2 AA in both themes, at a desk's width and a phone's, and neither
page scrolls sideways at 390 px."""

import urllib.error
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from appointments.local_time import local_label
from appointments.models import Appointment
from desk.models import CalendarFeed, Note
from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.factories import in_days, make_appointment
from tests.helpers import PASSWORD, browser_sign_in, staff

pytestmark = pytest.mark.django_db(transaction=True)
WIDTHS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
NOTE = "Prefers a call after 2pm; ask about the second letter."


@pytest.fixture
def dana(department) -> Any:
    agent = staff("dana", department)
    agent.first_name, agent.last_name = "Dana", "Reid"
    agent.save()
    return agent


@pytest.fixture
def assigned(department, dana) -> Appointment:
    return make_appointment(
        department,
        agent_id=dana.pk,
        appointment_at=in_days(3, 11, 15),
        claimant={"name": "Winifred Quaintance", "email": "w@example.org", "data": {"Case number": "C-7"}},
    )


def fetch(address: str) -> tuple[int, str, bytes]:
    """The address fetched as a calendar application would: a plain HTTP GET, no cookie."""
    try:
        with urllib.request.urlopen(address, timeout=20) as answer:  # noqa: S310 (the live server's http address)
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type", ""), b""


def fits_and_reads(page: Any, axe_source: str, width: int, where: str) -> None:
    """No sideways scrolling, no script error or CSP violation of the page's own, and no WCAG 2.2 AA finding. The
    page's errors are read before axe runs, and what axe's run adds is dropped after it: its colour checks apply
    styles the strict CSP blocks, which are axe's, not the page's (as in test_evidence_pages)."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, where
    assert page.console_errors == [], [where, *page.console_errors]
    assert accessibility_violations(page, axe_source, WCAG22_AA) == [], where
    page.console_errors.clear()


def tab_to(page: Any, selector: str, presses: int = 200) -> None:
    """Tab (the keyboard alone) until the element matching `selector` has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_an_agent_writes_a_note_by_keyboard_and_reads_their_feed_until_it_is_rotated(
    live_server, browser, settings, assigned, dana, axe_source, scheme, width
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url  # the address the page shows is the live server's
    base, viewport = live_server.url, WIDTHS[width]
    page = _watched(browser.new_context(color_scheme=scheme, viewport=viewport))
    browser_sign_in(page, base, "dana", PASSWORD)

    # A note, by keyboard: Tab to the box, type, Tab to "Add note", Enter.
    page.goto(f"{base}/admin/appointments/appointment/{assigned.pk}/change/")
    assert "No notes yet." in page.locator("#notes").inner_text()
    tab_to(page, "#id_note_text")
    page.keyboard.type(NOTE)
    tab_to(page, ".note-add .button", presses=3)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".messagelist .success").inner_text() == "Note added."
    note = Note.objects.get(appointment_id=assigned.pk)
    assert (note.text, note.author_id) == (NOTE, dana.pk)
    listed = page.locator("#notes .notes li")
    assert listed.count() == 1
    zone = ZoneInfo(assigned.department.time_zone)
    assert listed.locator(".note-meta").inner_text() == f"Dana Reid · {local_label(note.created_at, zone)}"
    assert listed.locator(".note-text").inner_text() == NOTE
    page.locator("#notes").scroll_into_view_if_needed()
    fits_and_reads(page, axe_source, viewport["width"], "the appointment's page with its notes")

    # "My calendar feed": made, its address read from the page and fetched by a plain HTTP client.
    page.get_by_role("link", name="My calendar feed").click()
    page.wait_for_url(f"{base}/admin/appointments/appointment/my-calendar/")
    assert "You have no calendar feed." in page.inner_text("#content-main")
    fits_and_reads(page, axe_source, viewport["width"], "the feed page, no feed")
    page.get_by_role("button", name="Make my calendar feed").click()
    address = page.get_by_label("Your calendar feed's address").input_value()
    assert address.startswith(f"{base}/calendar/")
    fits_and_reads(page, axe_source, viewport["width"], "the feed page with its address")
    status, kind, body = fetch(address)
    assert (status, kind) == (200, "text/calendar; charset=utf-8")
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == "Appointment with W. Q."  # initials, no more
    assert event.decoded("dtstart") == assigned.appointment_at
    assert b"Quaintance" not in body
    assert NOTE.encode() not in body  # notes are internal

    # Rotated: a new address works, the old one is 404.
    page.get_by_role("button", name="Make a new address (the old one stops working)").click()
    rotated = page.get_by_label("Your calendar feed's address").input_value()
    assert rotated != address
    assert fetch(address)[0] == 404
    assert fetch(rotated)[0] == 200
    assert CalendarFeed.objects.filter(user=dana).count() == 1
    fits_and_reads(page, axe_source, viewport["width"], "the feed page, rotated")
    page.context.close()
