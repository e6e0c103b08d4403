"""An agent signs in and lands on today's list, reaches the waiting room in one click from every back-office page,
and sees the Join column on a 1366 x 768 laptop screen (issue 17.11); the pages pass axe's WCAG 2.2 AA rules."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.factories import UserFactory, make_appointment
from tests.helpers import browser_sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"
LAPTOP = {"width": 1366, "height": 768}
LIST = "/admin/appointments/appointment/"


@pytest.fixture
def busy_day(department) -> dict[str, Any]:
    """An agent's day with calls whose join window is open, long names and an interpreter, as on a real day."""
    department.name = "Personal Injury Claims, Northern Region"
    department.save()
    agent = UserFactory.create(username="desk", first_name="Dana", last_name="Desk-Fairweather", is_staff=True)
    agent.set_password(PASSWORD)
    agent.save()
    agent.groups.add(Group.objects.get(name="Agents"))
    department.members.add(agent)
    soon = timezone.now() + timedelta(minutes=10)  # inside the join window: Join shows
    calls = [
        make_appointment(
            department,
            appointment_at=soon + timedelta(minutes=5 * n),
            duration_in_minutes=45,
            agent_id=agent.pk if n == 0 else None,
            is_interpreter_needed=n % 2 == 0,
            interpreter_language="Portuguese (Brazilian)" if n % 2 == 0 else None,
            claimant={
                "name": f"Maximiliana Featherstonehaugh-Wolfeschlegel {n}",
                "data": {"Case number": f"PI-2026-{n:05d}"},
            },
        )
        for n in range(3)
    ]
    return {"agent": agent, "calls": calls}


def sign_in(page: Any, base: str) -> None:
    browser_sign_in(page, base, "desk", PASSWORD)


@pytest.fixture
def morning() -> Iterator[None]:
    """A weekday morning in London (the department's zone), the clock running: today's calls stay today's."""
    with time_machine.travel(datetime(2027, 3, 10, 9, 30, tzinfo=UTC), tick=True):
        yield


def test_an_agent_lands_on_today_with_join_in_view_and_the_waiting_room_one_click_away(
    live_server, browser: Any, morning: None, busy_day, axe_source: str
) -> None:
    base = live_server.url
    context = browser.new_context(viewport=LAPTOP)
    try:
        page = context.new_page()
        sign_in(page, base)

        # Today's list, not Django's index of models.
        assert page.url == f"{base}{LIST}"
        assert page.inner_text("#content h1") == "Today"
        assert page.locator("#result_list tbody tr").count() == 3

        # At 1366 px the whole row fits: the Join column and its buttons are inside the window, with no scrolling.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= LAPTOP["width"]
        for element in [page.locator("#result_list th.column-join"), *page.locator("a.join-button").all()]:
            box = element.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= LAPTOP["width"], box
        assert page.locator("a.join-button").count() == 3

        # The waiting room is one click from every page of the back office.
        pages = [
            LIST,
            f"{LIST}{busy_day['calls'][0].pk}/change/",
            f"{LIST}?show=week",
            "/admin/",
            "/admin/notifications/notification/",
            "/admin/password_change/",
        ]
        for url in pages:
            page.goto(f"{base}{url}")
            link = page.get_by_role("link", name="Waiting room", exact=True)
            assert link.count() == 1, url
            assert link.get_attribute("href") == f"{LIST}waiting-room/", url
            assert link.bounding_box() is not None, url  # shown, not only in the markup
            assert accessibility_violations(page, axe_source, tags=WCAG22_AA) == [], url
        page.goto(f"{base}{LIST}{busy_day['calls'][0].pk}/change/")
        page.get_by_role("link", name="Waiting room", exact=True).click()
        page.wait_for_url(f"{base}{LIST}waiting-room/")
        assert page.inner_text("#content h1") == "Waiting room"
        # The waiting room itself names the page it is (its link marked as the current page) and passes axe.
        assert page.get_by_role("link", name="Waiting room", exact=True).get_attribute("aria-current") == "page"
        assert accessibility_violations(page, axe_source, tags=WCAG22_AA) == []
        # And back to today's list in one click, from there too.
        page.get_by_role("link", name="Today", exact=True).click()
        page.wait_for_url(f"{base}{LIST}")
        assert page.locator("#result_list tbody tr").count() == 3
    finally:
        context.close()
