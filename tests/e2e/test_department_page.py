"""The department's page as its manager sees it (issue 23, a fresh-eyes walk): its tabular inlines (claimant data
fields, working hours, days that differ) give every input a name, and at a phone's width their tables scroll inside
their own box, focusable by keyboard, so the page itself never scrolls sideways. Checked by axe-core against WCAG
2.2 AA at a desk's width and a phone's, in both themes."""

from datetime import date, time

import pytest

from appointments.availability import HoursException, WorkingHours
from tests.e2e.test_evidence_pages import WIDTHS, fits_and_reads, manager_page
from tests.helpers import staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staffed(department):
    """A department with a manager, an agent's working hours and a day that differs (rows in every inline)."""
    staff("boss", department, group="Department managers")
    dana = staff("dana", department)
    WorkingHours.objects.create(department=department, agent=dana, weekday=0, starts_at=time(9), ends_at=time(17))
    HoursException.objects.create(department=department, agent=dana, day=date(2030, 1, 2), kind="off")
    return department


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_department_page_names_every_input_and_fits(live_server, browser, staffed, axe_source, scheme, width):
    page = manager_page(browser, live_server.url, scheme, WIDTHS[width])
    page.goto(f"{live_server.url}/admin/appointments/department/{staffed.pk}/change/")
    assert page.get_attribute("#id_working_hours-0-weekday", "aria-label") == "Weekday"
    assert page.get_attribute("#id_data_fields-0-name", "aria-label") == "Name"
    box = page.locator(".inline-scroll:has(#working_hours-group)")
    assert (box.get_attribute("tabindex"), box.get_attribute("role")) == ("0", "region")
    assert box.get_attribute("aria-label") == "Working hours (in the department's time zone)"
    if width == "phone":  # the table is wider than the screen: its box scrolls, not the page
        assert box.evaluate("box => box.scrollWidth > box.clientWidth")
    fits_and_reads(page, axe_source, WIDTHS[width]["width"])
    page.context.close()
