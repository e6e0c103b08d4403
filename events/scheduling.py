"""The work a change schedules for later, enqueued when its event is dispatched: the no-show check at the end of
the meeting (again on every reschedule; the check re-reads the appointment, so a stale one does nothing), the
check for a session nobody ended (from the meeting's end, when it starts), and the absence check of someone who
joined a waiting room. No cron is needed for any of them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from config.queue import enqueue_at
from events.models import Event, EventType


def schedule_for_event(event: Event) -> None:
    from appointments.tasks import appointment_check_abandoned, appointment_check_no_show
    from meetings.models import Meeting
    from meetings.tasks import participant_check_absent

    if event.appointment_id is None:
        return
    if event.type in (EventType.APPOINTMENT_CREATED, EventType.APPOINTMENT_RESCHEDULED):
        end = Meeting.objects.filter(appointment_id=event.appointment_id).values_list("end_date", flat=True).first()
        if end is not None:
            enqueue_at(appointment_check_no_show, end + timedelta(seconds=1), str(event.appointment_id))
    elif event.type == EventType.MEETING_STARTED:
        # It follows the meeting's end itself (an extension moves it), so one chain per session is enough.
        end = Meeting.objects.filter(appointment_id=event.appointment_id).values_list("end_date", flat=True).first()
        if end is not None:
            enqueue_at(appointment_check_abandoned, end + timedelta(seconds=1), str(event.appointment_id))
    elif event.type == EventType.PARTICIPANT_JOINED_WAITING_ROOM:
        when = timezone.now() + timedelta(seconds=settings.WAITING_ABSENCE_SECONDS + 1)
        enqueue_at(participant_check_absent, when, event.content["participant"]["id"])
