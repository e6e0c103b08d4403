from config.queue import task


@task()
def appointment_check_no_show(appointment_id: str) -> bool:
    """Enqueued for the end of the appointment's meeting (again on every reschedule): a no-show if nobody started
    it and the claimant never came, missed by the organisation if the claimant came to the waiting room. The rule
    re-reads the appointment, so a task for a time that has since moved does nothing."""
    from appointments.services import appointment_mark_no_shows

    return bool(appointment_mark_no_shows(appointment_id=appointment_id))
