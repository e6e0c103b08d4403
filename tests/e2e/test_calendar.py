"""The calendar and the live back office in a real browser (issue 24.1, 24.2): a block dragged to another time is
moved by the service; dragged onto another agent's appointment it goes back where it was and the page says the
clash in the service's words, beside where it was let go as well as at the top (which may be scrolled out of view),
moving nothing else; the keyboard moves one (arrows, then Enter); at 390 px the page is an agenda that does
not scroll sideways; and a claimant joining in another browser appears in the agent's open today list and calendar
within a poll, without a reload and without losing the ticked row.

The moves are on a day a week ahead at 10:00 to 14:00 in London (any hour the tests run at); the live test's
appointment is ten minutes ahead in a zone where that is still today (tests.e2e.test_waiting_room.same_day_zone).
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.e2e.test_waiting_room import into_the_waiting_room, same_day_zone
from tests.factories import make_appointment
from tests.helpers import browser_sign_in, staff

pytestmark = pytest.mark.django_db(transaction=True)
journey = journeys.journey
video_stub = journeys.video_stub
LONDON = ZoneInfo("Europe/London")
CALENDAR = "/admin/appointments/appointment/calendar/"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def week_ahead(department) -> dict[str, Any]:
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    day = (timezone.now().astimezone(LONDON) + timedelta(days=7)).date()
    desk = staff("desk", department)
    desk.first_name, desk.last_name = "Dana", "Desk"
    desk.set_password(journeys.PASSWORD)
    desk.save()
    sam = staff("sam", department)
    sam.first_name, sam.last_name = "Sam", "Okafor"
    sam.save()

    def book(hour: int, agent: User, reference: str) -> Appointment:
        claimant = {"name": f"Claimant {reference}", "data": {"Case number": reference}}
        return make_appointment(
            department, appointment_at=at(day, hour), duration_in_minutes=30, reference=reference,
            agent_id=agent.pk, claimant=claimant,
        )  # fmt: skip

    return {
        "day": day,
        "desk": desk,
        "sam": sam,
        "first": book(10, desk, "DESK-10"),
        "second": book(12, desk, "DESK-12"),
        "sams": book(10, sam, "SAM-10"),
    }


def drag(page: Any, block: str, column: int, row: int) -> None:
    """Drag `block` (a selector) by the mouse so that its top lands on `row` (quarter hours from the grid's first
    hour) of column `column`."""
    page.locator(block).scroll_into_view_if_needed()
    box = page.locator(block).bounding_box()
    col = page.locator(f".cal-col[data-column='{column}']").bounding_box()
    rows = int(page.locator(".cal-grid").get_attribute("data-rows"))
    height = col["height"] / rows
    grab_x, grab_y = box["x"] + 10, box["y"] + 6
    page.mouse.move(grab_x, grab_y)
    page.mouse.down()
    page.mouse.move(grab_x + 3, grab_y + 8, steps=2)
    page.mouse.move(col["x"] + col["width"] / 2, col["y"] + row * height + 6, steps=8)
    page.mouse.up()


def in_the_window(page: Any, selector: str) -> dict[str, float]:
    """Asserts that `selector`'s box lies wholly within the window (the viewport, as scrolled), and answers it."""
    box, window = page.locator(selector).bounding_box(), page.viewport_size
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert box["x"] + box["width"] <= window["width"]
    assert box["y"] + box["height"] <= window["height"]
    return box


def test_dragging_a_block_moves_it_and_a_clash_puts_it_back_with_the_clash(
    live_server, page, department, week_ahead
) -> None:
    day, second = week_ahead["day"], week_ahead["second"]
    page.set_viewport_size({"width": 1400, "height": 1400})
    browser_sign_in(page, live_server.url, "desk", journeys.PASSWORD)
    page.goto(f"{live_server.url}{CALENDAR}?date={day.isoformat()}")
    first_hour = int(page.locator(".cal-grid").get_attribute("data-first-hour"))
    assert page.inner_text(".cal-head.c-1") == "Dana Desk"
    assert page.inner_text(f"#block-{second.pk} .cal-status") == "Scheduled"

    # To 14:00 in Dana's own column: moved by the service.
    drag(page, f"#block-{second.pk}", 1, (14 - first_hour) * 4)
    page.wait_for_selector("#calendar-message.moved")
    assert page.inner_text("#calendar-message").startswith("Moved DESK-12 to ")
    second.refresh_from_db()
    assert second.appointment_at == at(day, 14)
    # The page draws itself again after its own move (live.js): the next drag starts on the block as drawn.
    page.wait_for_function("() => Number(document.querySelector('#calendar-body').dataset.liveDrawn) >= 1")
    assert page.inner_text(f"#block-{second.pk} .cal-when") == f"14:00 to 14:30 {at(day, 14).tzname()}"

    # Onto Sam's 10:00: refused; the block goes back and the page says the clash in the service's words.
    drag(page, f"#block-{second.pk}", 2, (10 - first_hour) * 4)
    page.wait_for_selector("#calendar-message.refused")
    said = page.inner_text("#calendar-message")
    assert said.startswith("Not moved: The agent already has appointment SAM-10, "), said
    assert "which overlaps this one" in said
    block = page.locator(f"#block-{second.pk}")
    assert "c-1" in block.get_attribute("class").split()
    assert f"r-{(14 - first_hour) * 4}" in block.get_attribute("class").split()
    second.refresh_from_db()
    assert (second.appointment_at, second.agent_id) == (at(day, 14), week_ahead["desk"].pk)

    # Lower down the grid, the page scrolled so that the message at its top is out of view: the reason is shown
    # where the agent let go (and still said in the live region), and nothing on the page moves.
    sam = week_ahead["sam"]
    later = make_appointment(
        department, appointment_at=at(day, 16), duration_in_minutes=30, reference="SAM-16", agent_id=sam.pk,
        claimant={"name": "Claimant SAM-16", "data": {"Case number": "SAM-16"}},
    )  # fmt: skip
    page.set_viewport_size({"width": 1400, "height": 600})
    page.goto(f"{live_server.url}{CALENDAR}?date={day.isoformat()}")
    page.locator(f"#block-{second.pk}").scroll_into_view_if_needed()
    scrolled = page.evaluate("() => window.scrollY")
    others = page.locator(f"#block-{later.pk}").bounding_box()
    drag(page, f"#block-{second.pk}", 2, (16 - first_hour) * 4)
    page.wait_for_selector("#calendar-message.refused")
    message = page.locator("#calendar-message").bounding_box()
    assert message["y"] + message["height"] <= 0  # the top of the page is out of view
    assert page.get_attribute("#calendar-message", "role") == "status"
    assert page.get_attribute("#calendar-message", "aria-live") == "polite"
    assert page.inner_text("#calendar-message").startswith("Not moved: The agent already has appointment SAM-16, ")
    note = page.locator("#calendar-note")
    assert note.is_visible()
    box = in_the_window(page, "#calendar-note")
    said = note.inner_text()
    assert said.startswith("Not moved: The agent already has appointment SAM-16, "), said
    assert said.endswith("DESK-12 is back at 14:00."), said
    assert box["y"] >= others["y"] + others["height"]  # below what it clashed with, which stays in sight
    assert page.evaluate("() => window.scrollY") == scrolled  # the page did not scroll
    assert page.locator(f"#block-{later.pk}").bounding_box() == others  # nor did the blocks move
    assert "r-" + str((14 - first_hour) * 4) in page.locator(f"#block-{second.pk}").get_attribute("class").split()
    second.refresh_from_db()
    assert (second.appointment_at, second.agent_id) == (at(day, 14), week_ahead["desk"].pk)
    # The next move takes the note away.
    page.focus(f"#block-{second.pk}")
    page.keyboard.press("ArrowDown")
    assert page.locator("#calendar-note").count() == 0
    page.keyboard.press("Escape")
    assert page.console_errors == []
    assert page.failed_responses == []  # the refusals are answers (200), not failed loads Chromium logs as errors


def test_the_keyboard_moves_a_block(live_server, page, week_ahead, department, axe_source) -> None:
    day, first = week_ahead["day"], week_ahead["first"]
    # One appointment of nobody's that day, so the day has its column of no agent.
    make_appointment(
        department,
        appointment_at=at(day, 16),
        duration_in_minutes=30,
        claimant={"name": "Nobody's", "data": {"Case number": "NONE-16"}},
    )
    page.set_viewport_size({"width": 1400, "height": 1400})
    browser_sign_in(page, live_server.url, "desk", journeys.PASSWORD)
    page.goto(f"{live_server.url}{CALENDAR}?date={day.isoformat()}")
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    assert "move it with the arrow keys" in page.inner_text("#calendar-help")  # the grid's help, not the agenda's
    assert "Choose an appointment to open it" not in page.inner_text("#calendar-help")
    page.focus(f"#block-{first.pk}")
    for _ in range(4):
        page.keyboard.press("ArrowDown")  # a quarter hour each: 11:00
    # The column of no agent is said as what the move does, not as "to No agent".
    for _ in range(10):
        page.keyboard.press("ArrowRight")
        if "no agent" in page.inner_text("#calendar-message"):
            break
    assert page.inner_text("#calendar-message").startswith("Moving DESK-10 to 11:00, with no agent")
    while not page.inner_text("#calendar-message").startswith("Moving DESK-10 to Sam Okafor"):
        page.keyboard.press("ArrowLeft")  # back to Sam's column
    assert page.inner_text("#calendar-message").startswith("Moving DESK-10 to Sam Okafor at 11:00")
    page.keyboard.press("Enter")
    # The block says its new time as the move is announced, not only when the rows are drawn again (which waits
    # while another block is being moved): read in the same task as the message.
    label = page.wait_for_function(
        """id => document.querySelector("#calendar-message.moved")
            && document.querySelector("#block-" + id + " .cal-when").textContent""",
        arg=str(first.pk),
    ).json_value()
    assert label.startswith("11:00 to ")
    first.refresh_from_db()
    assert (first.appointment_at, first.agent_id) == (at(day, 11), week_ahead["sam"].pk)
    # Escape puts a block back without asking the service.
    page.wait_for_selector(f"#block-{first.pk}:not(.saving)")
    page.focus(f"#block-{first.pk}")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Escape")
    assert page.inner_text("#calendar-message") == "Not moved."
    first.refresh_from_db()
    assert first.appointment_at == at(day, 11)
    # Up onto Sam's 10:00: refused, and the reason is beside where the block was taken, in view.
    for _ in range(4):
        page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_selector("#calendar-message.refused")
    note = page.locator("#calendar-note")
    assert note.is_visible()
    in_the_window(page, "#calendar-note")
    assert note.inner_text().startswith("Not moved: The agent already has appointment SAM-10, ")
    assert page.evaluate("() => document.activeElement.id") == f"block-{first.pk}"  # the keyboard goes on from it
    first.refresh_from_db()
    assert (first.appointment_at, first.agent_id) == (at(day, 11), week_ahead["sam"].pk)
    assert page.console_errors == []


def test_on_a_phone_the_calendar_is_an_agenda_that_does_not_scroll_sideways(
    live_server, page, department, week_ahead, axe_source
) -> None:
    day = week_ahead["day"]
    kit = staff("kit", department)  # no first or last name: named by the username, as the grid's heading names them
    make_appointment(
        department, appointment_at=at(day, 15), duration_in_minutes=30, reference="KIT-15",
        agent_id=kit.pk, claimant={"name": "Claimant KIT-15", "data": {"Case number": "KIT-15"}},
    )  # fmt: skip
    page.set_viewport_size({"width": 390, "height": 844})
    browser_sign_in(page, live_server.url, "desk", journeys.PASSWORD)
    # Each item of the list says whose it is (the grid's columns say it; the list has none).
    expected = {
        "day": [("DESK-10", "Dana Desk"), ("SAM-10", "Sam Okafor"), ("DESK-12", "Dana Desk"), ("KIT-15", "kit")],
        "week": [("DESK-10", "Dana Desk"), ("DESK-12", "Dana Desk")],  # Dana's own week
    }
    for view in ("day", "week"):
        page.goto(f"{live_server.url}{CALENDAR}?date={day.isoformat()}&view={view}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert page.is_hidden(".cal-grid")
        assert page.is_visible(".cal-agenda")
        # The help says what this screen offers: no dragging or arrow keys on the agenda.
        help_text = page.inner_text("#calendar-help")
        assert "Choose an appointment to open it" in help_text
        assert "arrow keys" not in help_text
        items = page.locator(".cal-agenda .cal-item")
        shown = [
            (items.nth(i).locator(".cal-ref").inner_text(), items.nth(i).locator(".cal-agent").inner_text())
            for i in range(items.count())
        ]
        assert sorted(shown) == sorted(expected[view])  # DESK-10 and SAM-10 are both at 10:00
        assert page.locator(".cal-agenda .cal-agent").first.is_visible()
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []


def test_a_claimant_joining_appears_in_the_open_list_and_calendar_within_a_poll(
    live_server, browser, page, journey, settings
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    appointment: Appointment = journey["appointment"]
    department = appointment.department
    department.time_zone = same_day_zone()
    department.save(update_fields=["time_zone"])
    desk_user = User.objects.get(username="desk")
    appointment_update(appointment=appointment, data={"agent_id": desk_user.pk}, actor=None)

    agent = browser.new_context()
    listing = agent.new_page()
    browser_sign_in(listing, live_server.url, "desk", journeys.PASSWORD)
    row = listing.locator(f"#result_list tr:has(input.action-select[value='{appointment.pk}'])")
    assert row.locator(".status-badge").inner_text() == "Scheduled"
    row.locator("input.action-select").check()
    calendar = agent.new_page()
    calendar.goto(f"{live_server.url}{CALENDAR}")
    assert calendar.inner_text(f"#block-{appointment.pk} .cal-status") == "Scheduled"
    for opened in (listing, calendar):
        opened.evaluate("() => { window.__samePage = true; }")  # gone if the page reloads

    page.goto(appointment.url)  # the claimant, in a browser of their own
    into_the_waiting_room(page)
    assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING

    listing.wait_for_selector(
        f"#result_list tr:has(input.action-select[value='{appointment.pk}']) .status-badge.status-waiting",
        timeout=5_000,
    )
    calendar.wait_for_selector(f"#block-{appointment.pk}.status-waiting .cal-status:has-text('Waiting')", timeout=5_000)
    for opened in (listing, calendar):
        assert opened.evaluate("() => window.__samePage") is True  # drawn in place: no reload
        opened.wait_for_function("() => document.title.startsWith('(1) ')", timeout=5_000)
        # Told once, in a status region; the rows themselves are not read out at each redraw.
        assert opened.inner_text("#live-news") == "1 person waiting"
        read_whole = "[aria-live] #result_list, [aria-live] [id^='block-'], [aria-live] #waiting-room-table"
        assert opened.locator(read_whole).count() == 0
    assert row.locator("input.action-select").is_checked()  # the ticked row is still ticked
    assert listing.locator("#result_list tr.selected").count() == 1
    agent.close()
