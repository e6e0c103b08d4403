"""Work scheduled by changes, on the task queue instead of cron: the no-show check at the end of each meeting
(a stale one, for a time that moved, does nothing) and the absence check of whoever joins a waiting room."""

from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from events.models import Event
from meetings.devices import participant_record_device_check
from meetings.models import Meeting, Participant, Role
from meetings.services.journey import participant_join
from tests.factories import a_browser, make_appointment
from tests.helpers import rewrite, run_tasks

CLAIMANT = {"name": "Ada", "data": {"Case number": "C-1"}}


def checks_due(appointment: Appointment) -> list:
    tasks = DBTaskResult.objects.filter(task_path="appointments.tasks.appointment_check_no_show", status="READY")
    return [task.run_after for task in tasks.order_by("run_after") if task.args_kwargs["args"] == [str(appointment.pk)]]


def test_the_no_show_check_is_enqueued_for_the_end_of_the_meeting_and_marks_it(department) -> None:
    appointment = make_appointment(department, claimant=CLAIMANT)
    run_tasks()
    end = Meeting.objects.get(appointment=appointment).end_date
    assert checks_due(appointment) == [end + timedelta(seconds=1)]
    # The clock passes the end with nobody there (the rows moved back in time, as the clock would move forward).
    start = timezone.now() - timedelta(hours=2)
    rewrite(Appointment.objects.filter(pk=appointment.pk), appointment_at=start)
    rewrite(Meeting.objects.filter(appointment=appointment), start_date=start, end_date=start + timedelta(hours=1))
    DBTaskResult.objects.filter(task_path="appointments.tasks.appointment_check_no_show").update(
        run_after=timezone.now()
    )
    run_tasks()
    assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW
    assert Event.objects.filter(appointment=appointment, type="appointment.no_show").count() == 1


def test_a_check_for_a_time_that_moved_does_nothing_and_the_new_time_has_its_own(department, agent) -> None:
    appointment = make_appointment(department, claimant=CLAIMANT)
    run_tasks()
    old_end = Meeting.objects.get(appointment=appointment).end_date
    later = appointment.appointment_at + timedelta(days=2)
    appointment_update(appointment=appointment, data={"appointment_at": later}, actor=agent.user)
    run_tasks(until=old_end + timedelta(seconds=2))  # the old check runs: the meeting now ends later
    assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
    assert checks_due(appointment) == [later + timedelta(hours=1, seconds=1)]


def test_someone_whose_page_stops_polling_leaves_the_waiting_room(department, settings) -> None:
    settings.WAITING_ABSENCE_SECONDS = 30
    appointment = make_appointment(department, appointment_at=timezone.now() + timedelta(minutes=10), claimant=CLAIMANT)
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    participant_record_device_check(participant=claimant, results={"camera": True, "microphone": True})
    participant_join(participant=claimant, browser=a_browser())
    run_tasks()
    check = DBTaskResult.objects.get(task_path="meetings.tasks.participant_check_absent", status="READY")
    assert timedelta(seconds=30) < check.run_after - timezone.now() < timedelta(seconds=32)
    # Still polling when the check comes: it looks again later.
    checks = DBTaskResult.objects.filter(task_path="meetings.tasks.participant_check_absent", status="READY")
    checks.update(run_after=timezone.now())
    run_tasks()
    assert Participant.objects.get(pk=claimant.pk).left_at is None
    assert checks.get().run_after > timezone.now()
    # The page stopped polling a minute ago: the next check lets them go, and the appointment waits no more.
    Participant.objects.filter(pk=claimant.pk).update(last_seen_at=timezone.now() - timedelta(minutes=1))
    checks.update(run_after=timezone.now())
    run_tasks()
    assert Participant.objects.get(pk=claimant.pk).left_at is not None
    assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
    assert Event.objects.filter(appointment=appointment).latest("sequence").type == "participant.left"


def test_an_event_whose_fan_out_failed_is_picked_up_by_the_next_one(department, agent) -> None:
    """The database went away while the worker fanned an event out: its task failed, the event stays written and
    undispatched, and the next event's fan-out (a minute later or more) takes it along."""
    first = make_appointment(department, claimant=CLAIMANT)
    DBTaskResult.objects.filter(task_path="events.tasks.events_dispatch").update(status="FAILED")
    stranded = Event.objects.get(appointment=first)
    Event.objects.filter(pk=stranded.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    make_appointment(department, claimant=CLAIMANT)
    run_tasks()
    stranded.refresh_from_db()
    assert stranded.dispatched_at is not None
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 0
