"""The absence check of whoever joins a waiting room, enqueued when their `participant.joined_waiting_room` event is
dispatched (registered with the outbox in `MeetingsConfig.ready()`)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from config.queue import enqueue_at, task
from events.models import Event
from meetings.models import Participant
from meetings.services import still_waiting
from meetings.services.journey import participant_leave


@task()
def participant_check_absent(participant_id: str) -> str:
    """Enqueued when someone joins a waiting room: gone when their page stopped polling, else look again later."""
    participant = Participant.objects.filter(pk=participant_id).select_related("appointment").first()
    if participant is None or not still_waiting(participant):
        return "not waiting"
    now = timezone.now()
    absence = timedelta(seconds=settings.WAITING_ABSENCE_SECONDS)
    seen = participant.last_seen_at or participant.joined_waiting_at or now
    if now - seen >= absence:
        participant_leave(participant=participant, now=now)
        return "left"
    enqueue_at(participant_check_absent, seen + absence + timedelta(seconds=1), participant_id)
    return "still here"


def schedule_absence_check(event: Event) -> None:
    """The first absence check of someone who joined a waiting room, for when their page would have stopped
    polling."""
    if event.appointment_id is None:
        return
    when = timezone.now() + timedelta(seconds=settings.WAITING_ABSENCE_SECONDS + 1)
    enqueue_at(participant_check_absent, when, event.content["participant"]["id"])
