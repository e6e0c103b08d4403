from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from config.queue import enqueue_at, task


@task()
def participant_check_absent(participant_id: str) -> str:
    """Enqueued when someone joins a waiting room: gone when their page stopped polling, else look again later."""
    from meetings.models import Participant
    from meetings.services import participant_leave, still_waiting

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
