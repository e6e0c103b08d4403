from config.queue import task


@task()
def appointment_check_no_show(appointment_id: str) -> bool:
    """Enqueued for the end of the appointment's meeting (again on every reschedule): a no-show if nobody started
    it and the claimant never came, missed by the organisation if the claimant came to the waiting room. The rule
    re-reads the appointment, so a task for a time that has since moved does nothing."""
    from appointments.services import appointment_mark_no_shows

    return bool(appointment_mark_no_shows(appointment_id=appointment_id))


@task()
def appointment_check_abandoned(appointment_id: str) -> str:
    """Enqueued when the session starts, for the end of the meeting: a session still in progress whose participants'
    pages have all been closed for SESSION_ABANDONED_MINUTES is completed; one still attended (or extended) is
    looked at again when it would next be due. One ended meanwhile ends the chain."""
    from datetime import timedelta

    from appointments.models import Appointment, Status
    from appointments.overrun import appointments_complete_abandoned, session_abandoned_from
    from config.queue import enqueue_at

    if appointments_complete_abandoned(appointment_id=appointment_id):
        return "completed"
    appointment = Appointment.objects.filter(pk=appointment_id, status=Status.IN_PROGRESS).first()
    if appointment is None:
        return "not in progress"
    enqueue_at(appointment_check_abandoned, session_abandoned_from(appointment) + timedelta(seconds=1), appointment_id)
    return "still attended"
