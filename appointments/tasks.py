"""The appointment's checks for later, enqueued when its events are dispatched (registered with the outbox in
`AppointmentsConfig.ready()`): the no-show check at the end of the meeting (again on every reschedule; the check
re-reads the appointment, so a stale one does nothing) and the check for a session nobody ended (from the meeting's
end, when it starts). No cron is needed for either."""

from __future__ import annotations

from datetime import timedelta

from appointments.models import Appointment, Status
from appointments.overrun import appointments_complete_abandoned, session_abandoned_from
from appointments.services import appointment_mark_no_shows
from config.queue import enqueue_at, task
from events.models import Event, EventType


@task()
def appointment_check_no_show(appointment_id: str) -> bool:
    """Enqueued for the end of the appointment's meeting (again on every reschedule): a no-show if nobody started
    it and the claimant never came, missed by the organisation if the claimant came to the waiting room. The rule
    re-reads the appointment, so a task for a time that has since moved does nothing."""
    return bool(appointment_mark_no_shows(appointment_id=appointment_id))


@task()
def appointment_check_abandoned(appointment_id: str) -> str:
    """Enqueued when the session starts, for the end of the meeting: a session still in progress whose participants'
    pages have all been closed for SESSION_ABANDONED_MINUTES is completed; one still attended (or extended) is
    looked at again when it would next be due. One ended meanwhile ends the chain."""
    if appointments_complete_abandoned(appointment_id=appointment_id):
        return "completed"
    appointment = Appointment.objects.filter(pk=appointment_id, status=Status.IN_PROGRESS).first()
    if appointment is None:
        return "not in progress"
    enqueue_at(appointment_check_abandoned, session_abandoned_from(appointment) + timedelta(seconds=1), appointment_id)
    return "still attended"


SCHEDULING_EVENTS = (EventType.APPOINTMENT_CREATED, EventType.APPOINTMENT_RESCHEDULED, EventType.MEETING_STARTED)


def schedule_for_event(event: Event) -> None:
    """The check an event schedules, for just after its meeting's end: the no-show check on a booking or a
    reschedule, the check for an abandoned session on its start (it follows the meeting's end itself, since an
    extension moves it, so one chain per session is enough)."""
    if event.appointment_id is None:
        return
    # The meeting's end through the appointment's reverse relation: one query, as reading the meeting was.
    end = Appointment.objects.filter(pk=event.appointment_id).values_list("meeting__end_date", flat=True).first()
    if end is None:
        return
    check = appointment_check_abandoned if event.type == EventType.MEETING_STARTED else appointment_check_no_show
    enqueue_at(check, end + timedelta(seconds=1), str(event.appointment_id))
