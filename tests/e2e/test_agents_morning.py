"""An agent's morning in a real browser against a real server, on the day the clocks go back (the server's
clock frozen at 2026-10-25 in this process, which the live server shares): today's list in local time on both
sides of the change, a claimant who phoned in booked, a clashing booking refused with the clash named, "Mine",
and the CSV export; no script error and no CSP violation."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments.models import Appointment
from tests.factories import UserFactory, make_appointment
from tests.helpers import browser_sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock(datetime(2026, 10, 24, 23, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


def test_an_agents_morning_on_the_day_the_clocks_go_back(live_server, page, department, clock) -> None:
    dana = UserFactory.create(username="dana", first_name="Dana", last_name="Desk", is_staff=True)
    dana.set_password(PASSWORD)
    dana.save()
    dana.groups.add(Group.objects.get(name="Agents"))
    department.members.add(dana)
    claimant = {"name": "Early Bird", "data": {"Case number": "E-1"}}
    make_appointment(department, reference="BST-SIDE", appointment_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                     duration_in_minutes=30, claimant=claimant, agent_id=dana.pk)  # fmt: skip
    make_appointment(department, reference="GMT-SIDE", appointment_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
                     duration_in_minutes=30, claimant={**claimant, "name": "Second Bird"})  # fmt: skip
    clock.moment = datetime(2026, 10, 25, 0, 5, tzinfo=UTC)  # 01:05 BST, Sunday morning
    base = live_server.url

    browser_sign_in(page, base, "dana", PASSWORD)

    # Today, in local time on both sides of the change: the same 01:30 twice, an hour apart.
    page.goto(f"{base}/admin/appointments/appointment/")
    rows = page.inner_text("#result_list tbody")
    assert "01:30 BST" in rows  # the clock alone: the list is today's, and says so once
    assert "01:30 GMT" in rows
    assert "Sun 25 Oct 2026" not in rows
    assert rows.index("BST-SIDE") < rows.index("GMT-SIDE")

    # A claimant phones in: booked for 09:00 (GMT by then) with Dana.
    page.click("a.addlink")
    page.fill("#id_date", "2026-10-25")
    page.fill("#id_time", "09:00")
    page.fill("#id_duration_in_minutes", "45")
    page.fill("#id_claimant_name", "Phoned In")
    page.fill("#id_claimant_phone_number", "07911 123456")
    page.select_option("#id_agent", label="Dana Desk")
    page.fill("label:has-text('Case number') + input", "PH-1")
    page.click(".submit-row input[type=submit][value='Book the appointment']")
    page.wait_for_selector(".messagelist .success")
    booked = Appointment.objects.get(claimant__name="Phoned In")
    assert booked.appointment_at == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)

    # Another call for Dana at 09:30 overlaps: refused, and the clash is named.
    page.goto(f"{base}/admin/appointments/appointment/add/")
    page.fill("#id_date", "2026-10-25")
    page.fill("#id_time", "09:30")
    page.fill("#id_claimant_name", "Too Soon")
    page.select_option("#id_agent", label="Dana Desk")
    page.fill("label:has-text('Case number') + input", "PH-2")
    page.press("label:has-text('Case number') + input", "Enter")  # Enter books; it does not show free times
    error = page.inner_text(".field-agent .errorlist")
    assert f"The agent already has appointment {booked.reference}, Sun 25 Oct 2026, 09:00 to 09:45 GMT" in error
    assert not Appointment.objects.filter(claimant__name="Too Soon").exists()

    # Mine: Dana's own, still to come.
    page.goto(f"{base}/admin/appointments/appointment/")
    page.click("#changelist-filter >> text=Mine")
    mine = page.inner_text("#result_list tbody")
    assert "BST-SIDE" in mine
    assert booked.reference in mine
    assert "GMT-SIDE" not in mine

    # Export what is shown.
    with page.expect_download() as download:
        page.click("a.export-link")
    content = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    exported = list(csv.DictReader(io.StringIO(content)))
    assert sorted(row["reference"] for row in exported) == sorted(["BST-SIDE", booked.reference])
    assert {row["time (local)"] for row in exported} == {"2026-10-25T01:30+01:00", "2026-10-25T09:00+00:00"}

    assert page.console_errors == []  # no script error and no Content-Security-Policy violation
    assert [(s, u) for s, u in page.failed_responses if not u.endswith("/favicon.ico")] == []
