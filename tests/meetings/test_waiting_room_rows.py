"""What a row of the staff waiting room says (found walking it in a browser, 2026-12-05 05:30 UTC): "Waiting since"
named the time a claimant joined the waiting room long after they were let in, on the rows of a session in progress
and of one completed. It is the time the earliest of those still waiting came: nobody let in, nobody of a session
that has ended. And a row whose join window has not opened says when Start will be there."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from appointments.join_window import join_window
from appointments.local_time import local_clock
from appointments.models import Appointment, Status
from appointments.services import appointment_cancel
from meetings.models import Participant, Role
from tests.factories import make_appointment
from tests.helpers import logged_in, rewrite, staff

WAITING_ROOM = "/admin/appointments/appointment/waiting-room/"


def _cell(html: str, appointment: Appointment) -> str:
    """The row's "Waiting since" cell, tag and text."""
    row = html[html.index(f'data-appointment="{appointment.pk}"') :]
    cell = row[row.index('<td data-label="Waiting since"') :]
    return cell[: cell.index("</td>")]


def test_waiting_since_is_the_time_of_those_still_waiting_not_of_one_let_in(department) -> None:
    zone = ZoneInfo(department.time_zone)
    morning = datetime(2026, 12, 7, 10, 0, tzinfo=zone)
    with time_machine.travel(morning - timedelta(hours=1), tick=False):
        appointment = make_appointment(department, appointment_at=morning, duration_in_minutes=60)
    claimant = Participant.objects.filter(appointment=appointment, role=Role.CLAIMANT)
    came = morning - timedelta(minutes=6)
    desk = staff("desk", department)
    with time_machine.travel(morning - timedelta(minutes=2), tick=False):
        rewrite(claimant, joined_waiting_at=came, last_seen_at=morning - timedelta(minutes=2))
        rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.WAITING)
        waiting = _cell(logged_in(desk).get(WAITING_ROOM).content.decode(), appointment)
    assert waiting.endswith(">09:54 GMT")
    assert "nothing" not in waiting

    with time_machine.travel(morning + timedelta(minutes=5), tick=False):  # let in at 10:00, the session running
        rewrite(claimant, admitted_at=morning, last_seen_at=morning + timedelta(minutes=5))
        rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.IN_PROGRESS, session_started_at=morning)
        running = _cell(logged_in(desk).get(WAITING_ROOM).content.decode(), appointment)
    assert running == '<td data-label="Waiting since" class="nothing">—'  # a dash in the table, hidden on a phone

    with time_machine.travel(morning + timedelta(minutes=50), tick=False):
        rewrite(
            Appointment.objects.filter(pk=appointment.pk),
            status=Status.COMPLETED,
            session_ended_at=morning + timedelta(minutes=45),
        )
        ended = _cell(logged_in(desk).get(WAITING_ROOM).content.decode(), appointment)
    assert ended == '<td data-label="Waiting since" class="nothing">—'


def test_a_row_before_its_window_opens_says_when_start_will_be_there(department) -> None:
    """Walked the same morning: a row later in the day had no action and nothing saying when it would have one."""
    zone = ZoneInfo(department.time_zone)
    morning = datetime(2026, 12, 7, 10, 0, tzinfo=zone)
    with time_machine.travel(morning - timedelta(hours=2), tick=False):
        appointment = make_appointment(department, appointment_at=morning, duration_in_minutes=30)
        opens = local_clock(join_window(appointment).opens_at, zone)
        early = logged_in(staff("desk", department)).get(WAITING_ROOM).content.decode()
    row = early[early.index(f'data-appointment="{appointment.pk}"') :]
    action = row[row.index('<td data-label="Action"') : row.index("</tr>")]
    assert f'<span class="start-opens">Start from {opens}</span>' in action
    assert 'class="nothing"' not in action
    assert "start-session" not in action
    with time_machine.travel(join_window(appointment).opens_at, tick=False):
        open_now = logged_in(staff("desk", department)).get(WAITING_ROOM).content.decode()
    row = open_now[open_now.index(f'data-appointment="{appointment.pk}"') :]
    assert "start-session" in row[: row.index("</tr>")]
    assert "Start from" not in row[: row.index("</tr>")]
    # After its window has closed with nobody started: neither Start nor a time it will come (the cell hidden).
    with time_machine.travel(join_window(appointment).closes_at + timedelta(minutes=1), tick=False):
        late = logged_in(staff("desk", department)).get(WAITING_ROOM).content.decode()
    row = late[late.index(f'data-appointment="{appointment.pk}"') :]
    action = row[row.index('<td data-label="Action"') : row.index("</tr>")]
    assert action.startswith('<td data-label="Action" class="nothing">')
    assert "start-session" not in action
    assert "Start from" not in action


def test_a_cancelled_row_says_nothing_of_readiness(department) -> None:
    """Walked the same morning: a cancelled row still read "Claimant: device not checked · Language: English"."""
    zone = ZoneInfo(department.time_zone)
    morning = datetime(2026, 12, 7, 10, 0, tzinfo=zone)
    with time_machine.travel(morning - timedelta(hours=2), tick=False):
        kept = make_appointment(department, appointment_at=morning, duration_in_minutes=30)
        called_off = make_appointment(department, appointment_at=morning + timedelta(hours=1), duration_in_minutes=30)
        appointment_cancel(appointment=called_off, reason=None, actor=None)
        html = logged_in(staff("desk", department)).get(WAITING_ROOM).content.decode()

    def readiness(appointment: Appointment) -> str:
        row = html[html.index(f'data-appointment="{appointment.pk}"') :]
        return row[row.index('<td data-label="Readiness"') : row.index('<td data-label="Action"')]

    assert "not checked" in readiness(kept)
    assert readiness(called_off).startswith('<td data-label="Readiness" class="nothing">')
    assert "not checked" not in readiness(called_off)
    assert "Language" not in readiness(called_off)
