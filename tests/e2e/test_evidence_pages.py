"""The back office's evidence pages, walked in a real browser as a department manager would (issues 20.3, 20.5 and
21.2-21.4): the appointment's Timeline with its "Download record", and the Personal data section of its page. Each
is checked by axe-core against WCAG 2.2 AA in both themes, at a desk's width and a phone's, and reached by keyboard."""

from typing import Any

import pytest

from appointments.models import Appointment
from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.factories import make_appointment
from tests.helpers import PASSWORD, browser_sign_in, staff

pytestmark = pytest.mark.django_db(transaction=True)
WIDTHS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def recorded(department) -> Appointment:
    """An appointment with a few things in its record: booked, changed twice."""
    appointment = make_appointment(
        department, claimant={"name": "Gwenllïan Ŵyn", "email": "gwen@example.com", "data": {"Case number": "C-9"}}
    )
    staff("boss", department, group="Department managers")
    return appointment


def manager_page(browser: Any, base: str, scheme: str, viewport: dict[str, int]) -> Any:
    page = _watched(browser.new_context(color_scheme=scheme, viewport=viewport, accept_downloads=True))
    browser_sign_in(page, base, "boss", PASSWORD)
    return page


def fits_and_reads(page: Any, axe_source: str, width: int) -> None:
    """No sideways scrolling, no script error or CSP violation of the page's own (read before axe runs: axe's
    colour checks on the change page's admin widgets apply styles the strict CSP blocks, which are axe's, not the
    page's), and no WCAG 2.2 AA finding."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert page.console_errors == [], [page.url, *page.console_errors]
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_timeline_reads_and_its_record_downloads_by_keyboard(
    live_server, browser, recorded, axe_source, scheme, width
) -> None:
    page = manager_page(browser, live_server.url, scheme, WIDTHS[width])
    page.goto(f"{live_server.url}/admin/appointments/appointment/{recorded.pk}/timeline/")
    assert "The record verifies." in page.inner_text("body")
    assert "Booked by" in page.inner_text("body")
    fits_and_reads(page, axe_source, WIDTHS[width]["width"])
    # By keyboard: Tab until the download link has the focus, then Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "download-record":
            break
    else:
        pytest.fail("Tab never reached the Download record link")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_personal_data_section_reads_in_both_themes_and_widths(
    live_server, browser, recorded, axe_source, scheme, width
) -> None:
    page = manager_page(browser, live_server.url, scheme, WIDTHS[width])
    page.goto(f"{live_server.url}/admin/appointments/appointment/{recorded.pk}/change/")
    section = page.locator("#personal-data")
    section.scroll_into_view_if_needed()
    assert section.is_visible()
    assert "Erase the claimant's personal data" in section.inner_text()
    fits_and_reads(page, axe_source, WIDTHS[width]["width"])
    page.context.close()


def test_a_manager_erases_from_the_section_by_keyboard(live_server, browser, recorded) -> None:
    """Tick the confirmation and press the button with the keyboard: the claimant's name is gone from the page and
    the database, the appointment stays."""
    page = manager_page(browser, live_server.url, "light", WIDTHS["desk"])
    page.goto(f"{live_server.url}/admin/appointments/appointment/{recorded.pk}/change/")
    confirm = page.locator("#id_erase_confirm")
    confirm.focus()
    page.keyboard.press("Space")
    assert confirm.is_checked()
    page.locator("#personal-data button, #personal-data input[type=submit]").filter(has_text="Erase").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "erased" in page.inner_text("#personal-data")
    kept = Appointment.objects.select_related("claimant").get(pk=recorded.pk)
    assert kept.claimant.name is None or kept.claimant.name == ""
    assert kept.claimant.erased_at is not None
    assert "Gwenllïan" not in page.content()
    assert page.console_errors == [], [page.url, *page.console_errors]
    page.context.close()
