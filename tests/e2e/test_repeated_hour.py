"""The repeated hour on the appointment's change page in a real browser (issue 24.5): the night the clocks go back in
London, 01:30 comes twice; the page shows both readings with the stored one chosen, choosing the other saves the
other moment, and the choice passes axe-core (WCAG 2.2 AA) at a phone's width in the dark theme without sideways
scrolling. (Saving it unchanged is test_back_office_forms' "TWICE".)"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.local_time import local_readings
from appointments.models import Appointment
from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.factories import make_appointment
from tests.helpers import PASSWORD, browser_sign_in, staff

pytestmark = pytest.mark.django_db(transaction=True)


def next_clocks_back() -> date:
    """The next night (from the day after tomorrow) on which 01:30 comes twice in London."""
    day = timezone.now().date() + timedelta(days=2)
    while not local_readings(day, time(1, 30), ZoneInfo("Europe/London")):
        day += timedelta(days=1)
    return day


def test_the_change_page_offers_both_readings_and_saves_the_one_chosen(
    live_server, browser, department, axe_source
) -> None:
    staff("dana", department)
    night = next_clocks_back()
    second = make_appointment(department, appointment_at=datetime.combine(night, time(1, 30), tzinfo=UTC))  # GMT
    page = _watched(browser.new_context(color_scheme="dark", viewport={"width": 390, "height": 844}))
    browser_sign_in(page, live_server.url, "dana", PASSWORD)
    page.goto(f"{live_server.url}/admin/appointments/appointment/{second.pk}/change/")

    choice = page.get_by_role("group", name="Which 01:30")
    assert choice.get_by_role("radio", name="01:30 GMT").is_checked()
    assert not choice.get_by_role("radio", name="01:30 BST").is_checked()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []

    choice.get_by_role("radio", name="01:30 BST").check()
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert Appointment.objects.get(pk=second.pk).appointment_at == datetime.combine(night, time(0, 30), tzinfo=UTC)
    assert page.get_by_role("group", name="Which 01:30").get_by_role("radio", name="01:30 BST").is_checked()
    page.context.close()
