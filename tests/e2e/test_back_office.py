"""An agent's day in the back office, in a real browser against a real server."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments.local_time import local_span
from appointments.models import Appointment, Status
from tests.factories import DepartmentFactory, UserFactory, in_days, make_appointment
from tests.helpers import browser_sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"


@pytest.fixture
def day(department):
    agent = UserFactory.create(username="desk", first_name="Dana", last_name="Desk", is_staff=True)
    agent.set_password(PASSWORD)
    agent.save()
    agent.groups.add(Group.objects.get(name="Agents"))
    department.members.add(agent)
    other = DepartmentFactory.create(name="Elsewhere")
    return {
        "find": make_appointment(
            department,
            reference="FIND-ME",
            appointment_at=in_days(2, hour=9),
            claimant={"name": "Ada Lovelace", "data": {"Case number": "C-1"}},
        ),
        "cancel": make_appointment(
            department,
            reference="CANCEL-ME",
            appointment_at=in_days(3, hour=9),
            claimant={"name": "Alan Turing", "data": {"Case number": "C-2"}},
        ),
        "theirs": make_appointment(other, reference="THEIRS", claimant={"name": "Grace Hopper"}),
    }


def sign_in(page, base: str) -> None:
    browser_sign_in(page, base, "desk", PASSWORD)


def test_an_agents_day(live_server, page, day, tmp_path) -> None:
    base = live_server.url
    sign_in(page, base)

    # Find the appointment by the claimant's name.
    page.goto(f"{base}/admin/appointments/appointment/")
    assert "THEIRS" not in page.content()
    page.fill("#searchbar", "Lovelace")
    page.press("#searchbar", "Enter")
    page.click("text=FIND-ME")
    page.wait_for_selector("#appointment_form")

    # Reschedule it; the meeting follows.
    new_time = in_days(9, hour=14)
    page.fill("#id_appointment_at_0", new_time.strftime("%Y-%m-%d"))
    page.fill("#id_appointment_at_1", "14:30:00")
    page.fill("#id_duration_in_minutes", "30")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    # The form's time and the meeting details are the department's (Europe/London), labelled; the database's UTC.
    london = ZoneInfo("Europe/London")
    expected = datetime.combine(new_time.date(), time(14, 30), tzinfo=london).astimezone(UTC)
    meeting_text = page.inner_text(".field-meeting_details")
    assert local_span(expected, expected + timedelta(minutes=30), london) in meeting_text
    # "Join as agent" opens the agent's own meeting page (its token as moderator), not the bare room.
    assert page.get_attribute("a.join-meeting", "href") == f"/admin/appointments/appointment/{day['find'].pk}/meeting/"
    rescheduled = Appointment.objects.select_related("meeting").get(pk=day["find"].pk)
    assert rescheduled.meeting.start_date == expected
    assert rescheduled.meeting.end_date == expected + timedelta(minutes=30)

    # Read its history: the change is there, by this agent.
    page.click("a.historylink")
    page.wait_for_selector("#appointment-history")
    history = page.inner_text("#appointment-history")
    assert "Dana Desk" in history
    assert "Time:" in history
    assert "Length (minutes): 60 → 30" in history.replace("\n", " ")

    # Cancel another one through the action, giving a reason (the list opens on today: choose "All").
    page.goto(f"{base}/admin/appointments/appointment/")
    page.click("#changelist-filter >> text=All")
    page.check(f"input[name=_selected_action][value='{day['cancel'].pk}']")
    page.select_option("select[name=action]", "cancel_appointments")
    page.click("button[name=index]")
    page.wait_for_selector("textarea[name=cancellation_reason]")
    page.fill("textarea[name=cancellation_reason]", "Claimant asked by phone")
    page.click("input[type=submit][value='Cancel the appointments']")
    page.wait_for_selector(".messagelist .success")
    assert "1 appointment cancelled." in page.inner_text(".messagelist")
    cancelled = Appointment.objects.get(pk=day["cancel"].pk)
    assert (cancelled.status, cancelled.cancellation_reason) == (Status.CANCELLED, "Claimant asked by phone")

    # Another department's appointment is not reachable, even by its address.
    page.goto(f"{base}/admin/appointments/appointment/{day['theirs'].pk}/change/")
    assert "Grace Hopper" not in page.content()
    assert page.url == f"{base}/admin/"  # the admin's answer for an object outside the user's queryset
    assert "Perhaps it was deleted?" in page.inner_text(".messagelist")
    page.goto(f"{base}/admin/appointments/appointment/{day['theirs'].pk}/history/")
    assert "Grace Hopper" not in page.content()

    page.screenshot(path=str(tmp_path / "back-office.png"), full_page=True)
    assert page.console_errors == []  # no script errors and no Content-Security-Policy violations
    theirs = str(day["theirs"].pk)
    unexpected = [(s, u) for s, u in page.failed_responses if theirs not in u and not u.endswith("/favicon.ico")]
    assert unexpected == []


def test_api_docs_render_offline_under_the_csp(live_server, page) -> None:
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .information-container .title")
    assert "Appointments API" in page.inner_text(".swagger-ui .information-container .title")
    page.get_by_text("/api/v1/appointments/{appointment}", exact=True).first.wait_for()
    assert page.console_errors == []
    assert [(s, u) for s, u in page.failed_responses if not u.endswith("/favicon.ico")] == []


ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_a_managers_day_view_and_week_render_cleanly(live_server, page, department) -> None:
    """The day view and the managers' week in the browser: badges, Join, the chart drawn by the service's own
    Chart.js, no script error and no CSP violation. Screenshots are kept in test-artifacts/."""
    manager = UserFactory.create(username="boss", is_staff=True)
    manager.set_password(PASSWORD)
    manager.save()
    manager.groups.add(Group.objects.get(name="Department managers"))
    department.members.add(manager)
    soon = timezone.now() + timedelta(minutes=10)
    claimant = {"name": "Ada", "data": {"Case number": "S"}}
    make_appointment(department, reference="SOON", appointment_at=soon, claimant=claimant)
    base = live_server.url
    browser_sign_in(page, base, "boss", PASSWORD)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/admin/appointments/appointment/")
    assert page.inner_text(".status-badge") == "Scheduled"
    assert page.is_visible("a.join-button")
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "day-view.png"), full_page=True)
    page.click("a.dashboard-link")
    page.wait_for_selector("#week-chart")
    # Chart.js may still be loading: the predicate must not throw before it has (a ReferenceError ends the wait).
    page.wait_for_function("() => window.Chart !== undefined && Chart.getChart('week-chart') !== undefined")
    assert "Appointments by status and day" in page.inner_text(".dashboard-table caption")
    page.screenshot(path=str(ARTEFACTS / "dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{base}/admin/appointments/appointment/")
    assert page.is_visible("text=SOON")
    assert page.console_errors == []
    assert [(s, u) for s, u in page.failed_responses if not u.endswith("/favicon.ico")] == []
