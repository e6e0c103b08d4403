"""The staff waiting room across local midnight: a defect found by CI at 23:16 UTC on 2026-12-04
(tests/e2e/test_welsh_journey.py, its appointment an hour ahead on the next day) and recorded before its fix. The
waiting room listed the staff member's today only, so a claimant who waited before midnight for an appointment just
after it was shown to nobody, and the tab's count of who waits missed them. Now the waiting room, its count and the
live pages' version take today's appointments and any live now (appointments.live.in_span_or_live_now)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from appointments.join_window import join_window
from appointments.live import live_version
from appointments.local_time import local_day
from appointments.models import Appointment, Status
from meetings.models import Participant, Role
from tests.factories import make_appointment
from tests.helpers import logged_in, rewrite, staff

WAITING_ROOM = "/admin/appointments/appointment/waiting-room/"
LIVE = "/admin/appointments/appointment/live/"


def _waiting(appointment: Appointment, since: datetime) -> None:
    """The claimant in the waiting room since `since`, their page polling."""
    rewrite(
        Participant.objects.filter(appointment=appointment, role=Role.CLAIMANT),
        joined_waiting_at=since,
        last_seen_at=since,
    )
    rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.WAITING)


def test_a_claimant_waiting_before_midnight_for_an_appointment_just_after_it_is_shown_and_counted(department) -> None:
    zone = ZoneInfo(department.time_zone)
    night = datetime(2026, 12, 4, 23, 50, tzinfo=zone)
    with time_machine.travel(night, tick=False):
        after_midnight = make_appointment(department, appointment_at=night + timedelta(minutes=20))
        tomorrow_later = make_appointment(department, appointment_at=night + timedelta(hours=10))  # not live: not shown
        desk = logged_in(staff("desk", department))
        _waiting(after_midnight, night)

        page = desk.get(WAITING_ROOM)
        assert page.status_code == 200
        shown = [row["appointment"].pk for row in page.context["rows"]]
        assert shown == [after_midnight.pk]
        assert tomorrow_later.pk not in shown
        assert page.context["waiting_count"] == 1
        live = desk.get(LIVE).json()
        assert live["waiting"] == 1  # the tab's count
        assert live["version"].split(".")[0] == "1"  # in the live pages' version: they redraw when it changes
        assert page.context["live_version"] == live["version"]


def test_an_appointment_just_after_midnight_whose_window_has_opened_is_shown_before_anyone_arrives(department) -> None:
    night = datetime(2026, 12, 4, 23, 50, tzinfo=ZoneInfo(department.time_zone))
    with time_machine.travel(night, tick=False):
        soon = make_appointment(department, appointment_at=night + timedelta(minutes=20))  # its window opened 23:40
        later = make_appointment(department, appointment_at=night + timedelta(minutes=45))  # opens at 00:05
        page = logged_in(staff("desk", department)).get(WAITING_ROOM)
        shown = [row["appointment"].pk for row in page.context["rows"]]
        assert shown == [soon.pk]
        assert later.pk not in shown


def test_a_session_running_past_midnight_stays_in_the_waiting_room(department, agent) -> None:
    zone = ZoneInfo(department.time_zone)
    evening = datetime(2026, 12, 4, 23, 40, tzinfo=zone)
    with time_machine.travel(evening, tick=False):
        running = make_appointment(department, appointment_at=evening, duration_in_minutes=60)
        rewrite(Appointment.objects.filter(pk=running.pk), status=Status.IN_PROGRESS, session_started_at=evening)
    with time_machine.travel(evening + timedelta(minutes=30), tick=False):  # 00:10, the next day
        start, end = local_day(evening + timedelta(minutes=30), zone)
        assert not start <= running.appointment_at < end  # no longer today's
        page = logged_in(staff("desk", department)).get(WAITING_ROOM)
        assert [row["appointment"].pk for row in page.context["rows"]] == [running.pk]
        assert page.context["live_version"] == live_version(Appointment.objects.all(), start, end, now=timezone.now())


# Found walking the waiting room in a browser at 00:45 London on 2026-12-05 (a second pair of eyes): an appointment
# that began at 23:55 and whose claimant has not come yet, its window open until 01:10, was missing, and the rows of
# another day showed a time with no date (yesterday's 23:50 above today's 00:54, tomorrow's 00:10 below 14:00).
def test_an_appointment_begun_before_midnight_whose_window_is_still_open_is_shown_with_start(department) -> None:
    zone = ZoneInfo(department.time_zone)
    before = datetime(2026, 12, 4, 21, 0, tzinfo=zone)
    with time_machine.travel(before, tick=False):
        open_still = make_appointment(department, appointment_at=datetime(2026, 12, 4, 23, 55, tzinfo=zone))
        closed = make_appointment(department, appointment_at=datetime(2026, 12, 4, 23, 0, tzinfo=zone))  # to 00:15
    after_midnight = datetime(2026, 12, 5, 0, 45, tzinfo=zone)
    with time_machine.travel(after_midnight, tick=False):
        assert join_window(open_still).is_open(after_midnight)
        assert not join_window(closed).is_open(after_midnight)
        desk = logged_in(staff("desk", department))
        page = desk.get(WAITING_ROOM)
        rows = page.context["rows"]
        assert [row["appointment"].pk for row in rows] == [open_still.pk]
        assert rows[0]["can_start"]
        start, end = local_day(after_midnight, zone)
        assert page.context["live_version"] == live_version(Appointment.objects.all(), start, end, now=timezone.now())
        assert page.context["live_version"].split(".")[0] == "1"


def test_a_row_of_another_day_shows_its_date_and_start_names_whom_it_starts(department) -> None:
    zone = ZoneInfo(department.time_zone)
    night = datetime(2026, 12, 4, 23, 50, tzinfo=zone)
    with time_machine.travel(night, tick=False):
        today = make_appointment(department, appointment_at=night + timedelta(minutes=5))
        bryn = {"name": "Bryn Jones", "data": {"Case number": "C-1"}}
        tomorrow = make_appointment(department, appointment_at=night + timedelta(minutes=20), claimant=bryn)
        html = logged_in(staff("desk", department)).get(WAITING_ROOM).content.decode()
    rows = {pk: html[html.index(f'data-appointment="{pk}"') :] for pk in (today.pk, tomorrow.pk)}
    assert '<td data-label="Time">23:55 GMT</td>' in rows[today.pk]
    assert '<td data-label="Time">Sat 5 Dec 2026, 00:10 GMT</td>' in rows[tomorrow.pk]
    named = 'Start<span class="visually-hidden"> the appointment of {}</span>'
    assert named.format("Bryn Jones, Sat 5 Dec 2026, 00:10 GMT") in rows[tomorrow.pk]
    assert named.format("Ada Lovelace, 23:55 GMT") in rows[today.pk]
