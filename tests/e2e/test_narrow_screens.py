"""At 390 px (a phone) the managers' dashboard, the waiting room and an appointment's history fit the screen: no page
scrolls sideways (issue 24); a wide table scrolls inside its own box instead."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments.services import appointment_update
from tests.e2e.conftest import WCAG22_AA, accessibility_violations
from tests.factories import make_appointment
from tests.helpers import PASSWORD, browser_sign_in, staff

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def overflow(page: Any) -> dict[str, int]:
    return page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )


def test_no_back_office_page_scrolls_sideways_on_a_phone(live_server, browser, department, axe_source) -> None:
    boss = staff("boss", department, group="Department managers")
    boss.first_name, boss.last_name = "Dana", "Reid"
    boss.save()
    boss.groups.add(Group.objects.get(name="Agents"))
    appointment = make_appointment(
        department,
        appointment_at=timezone.now() + timedelta(minutes=30),
        claimant={"name": "Ada Lovelace-Byron of a very long name indeed", "email": "ada@example.com",
                  "data": {"Case number": "C-1"}},
    )  # fmt: skip
    appointment_update(
        appointment=appointment,
        data={"agent_id": boss.pk, "custom_user_post_call_redirect_url": "https://example.com/" + "a" * 120},
        actor=boss,
    )
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    base = live_server.url
    browser_sign_in(page, base, "boss", PASSWORD)
    pages = {
        "dashboard": "/admin/appointments/appointment/dashboard/",
        "waiting room": "/admin/appointments/appointment/waiting-room/",
        "history": f"/admin/appointments/appointment/{appointment.pk}/history/",
    }
    wide, findings = {}, {}
    for name, address in pages.items():
        response = page.goto(base + address)
        assert response.status == 200, name
        measured = overflow(page)
        if measured["scroll"] > measured["client"]:
            wide[name] = measured
        # What scrolls inside its own box instead stays usable (axe: a scrollable region reachable by keyboard).
        if found := accessibility_violations(page, axe_source, WCAG22_AA):
            findings[name] = found
    context.close()
    assert wide == {}
    assert findings == {}


def test_the_dashboard_on_a_phone_reads_whole(live_server, browser, department) -> None:
    """Walked at 390 px (2026-12-05): the tables' captions were centred across tables wider than the screen ("By
    agent" fine, "Appointments by status anc" cut off), each day took four lines ("Mon / 30 / Nov / 2026"), the
    totals row was the smallest and palest text of the page (11 px, grey), and Show was 19 px high."""
    staff("boss", department, group="Department managers")
    make_appointment(department, appointment_at=timezone.now() + timedelta(hours=2))
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    browser_sign_in(page, live_server.url, "boss", PASSWORD)
    page.goto(live_server.url + "/admin/appointments/appointment/dashboard/")
    seen = page.evaluate(
        """() => {
        const text = (node) => { const r = document.createRange(); r.selectNodeContents(node);
                                 return r.getBoundingClientRect(); };
        const width = (node) => text(node).right;
        const style = (selector) => getComputedStyle(document.querySelector(selector));
        return {
            captions: [...document.querySelectorAll('.dashboard-table caption')].map(width),
            day_height: text(document.querySelector('.dashboard-table tbody th')).height,
            row_height: text(document.querySelector('.dashboard-table tbody td')).height,
            totals: parseFloat(style('.dashboard-table tfoot td').fontSize),
            body: parseFloat(style('.dashboard-table tbody td').fontSize),
            totals_colour: style('.dashboard-table tfoot td').color,
            body_colour: style('.dashboard-table tbody td').color,
            show: document.querySelector('.dashboard-range .button').getBoundingClientRect().height,
        };
    }"""
    )
    context.close()
    assert all(right <= 390 for right in seen["captions"]), seen
    assert seen["day_height"] <= seen["row_height"] * 1.5, seen  # one line, as the count beside it
    assert seen["totals"] >= seen["body"], seen
    assert seen["totals_colour"] == seen["body_colour"], seen
    assert seen["show"] >= 24, seen
