"""mark_no_shows: scheduled/waiting appointments whose meeting ended without a session become no_show, or missed by
the organisation when the claimant came to the waiting room."""

from datetime import timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_mark_no_shows, appointment_update
from meetings.models import Meeting
from tests.factories import in_days, make_appointment
from tests.helpers import rewrite, walk_to


def in_the_past(appointment: Appointment, hours: float) -> None:
    """Move an appointment and its meeting back in time, as the clock would."""
    start = timezone.now() - timedelta(hours=hours)
    rewrite(Appointment.objects.filter(pk=appointment.pk), appointment_at=start)
    rewrite(
        Meeting.objects.filter(appointment=appointment),
        start_date=start,
        end_date=start + timedelta(minutes=appointment.duration_in_minutes),
    )


def test_marks_only_ended_meetings_without_a_session(department, agent) -> None:
    """Run over time (time-machine): three hours after three appointments began, one nobody came to is a no-show,
    one whose claimant waited is missed by the organisation (issue 17.2: not a no-show), one that ran is left
    alone, as are one still under way and one still to come."""
    start = in_days(1)
    ended = make_appointment(department, reference="ENDED", appointment_at=start)
    waiting = make_appointment(department, reference="WAITED", appointment_at=start)
    running = make_appointment(department, reference="RUNNING", appointment_at=start)
    future = make_appointment(department, reference="FUTURE", appointment_at=in_days(2))
    ongoing = make_appointment(department, reference="ONGOING", appointment_at=start + timedelta(hours=2.5))
    walk_to(waiting, Status.WAITING, agent.user)
    walk_to(running, Status.IN_PROGRESS, agent.user)

    out = StringIO()
    with time_machine.travel(start + timedelta(hours=3), tick=False):  # 60 minutes long: ONGOING has not ended
        call_command("mark_no_shows", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-2:] == [
        "Recorded 1 appointment(s) as missed by the organisation.",
        "Marked 1 appointment(s) as no-show.",
    ]
    assert sorted(line.split()[1].rstrip(":") for line in lines[:-2]) == ["ENDED", "WAITED"]
    assert any("waiting -> cancelled, missed by the organisation" in line for line in lines)

    rows = Appointment.objects.values_list("reference", "status", "outcome")
    statuses = {reference: (status, outcome) for reference, status, outcome in rows}
    assert statuses == {
        "ENDED": (Status.NO_SHOW, None),
        "WAITED": (Status.CANCELLED, "missed_by_organisation"),
        "RUNNING": (Status.IN_PROGRESS, None),
        "FUTURE": (Status.SCHEDULED, None),
        "ONGOING": (Status.SCHEDULED, None),
    }
    assert future.status == ongoing.status == ended.status == Status.SCHEDULED


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
