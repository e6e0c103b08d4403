"""mark_no_shows: scheduled/waiting appointments whose meeting ended without a session become no_show."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_mark_no_shows, appointment_update
from meetings.models import Meeting
from tests.factories import make_appointment
from tests.helpers import walk_to


def in_the_past(appointment: Appointment, hours: float) -> None:
    """Move an appointment and its meeting back in time, as the clock would."""
    start = timezone.now() - timedelta(hours=hours)
    Appointment.objects.filter(pk=appointment.pk).update(appointment_at=start)
    Meeting.objects.filter(appointment=appointment).update(
        start_date=start, end_date=start + timedelta(minutes=appointment.duration_in_minutes)
    )


def test_marks_only_ended_meetings_without_a_session(department, agent) -> None:
    ended = make_appointment(department, reference="ENDED")
    waiting = make_appointment(department, reference="WAITED")
    running = make_appointment(department, reference="RUNNING")
    future = make_appointment(department, reference="FUTURE")
    ongoing = make_appointment(department, reference="ONGOING")
    walk_to(waiting, Status.WAITING, agent.user)
    walk_to(running, Status.IN_PROGRESS, agent.user)
    for appointment in (ended, waiting, running):
        in_the_past(appointment, hours=3)
    in_the_past(ongoing, hours=0.5)  # 60 minutes long: its meeting has not ended

    out = StringIO()
    call_command("mark_no_shows", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1] == "Marked 2 appointment(s) as no-show."
    assert sorted(line.split()[1].rstrip(":") for line in lines[:-1]) == ["ENDED", "WAITED"]
    assert any("waiting -> no_show" in line for line in lines)

    statuses = dict(Appointment.objects.values_list("reference", "status"))
    assert statuses == {
        "ENDED": Status.NO_SHOW,
        "WAITED": Status.NO_SHOW,
        "RUNNING": Status.IN_PROGRESS,
        "FUTURE": Status.SCHEDULED,
        "ONGOING": Status.SCHEDULED,
    }
    assert future.status == Status.SCHEDULED


def test_running_again_changes_nothing(department) -> None:
    in_the_past(make_appointment(department), hours=3)
    assert len(appointment_mark_no_shows()) == 1
    out = StringIO()
    call_command("mark_no_shows", stdout=out)
    assert out.getvalue().strip() == "Marked 0 appointment(s) as no-show."


def test_an_appointment_rescheduled_meanwhile_is_left_alone(department, agent) -> None:
    appointment = make_appointment(department)
    in_the_past(appointment, hours=3)
    # The due list was read; before its turn, the appointment is moved to tomorrow (it holds the lock first).
    appointment_update(
        appointment=appointment, data={"appointment_at": timezone.now() + timedelta(days=1)}, actor=agent.user
    )
    assert appointment_mark_no_shows(now=timezone.now()) == []
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED
