"""Fanning events out, on the worker: webhooks, the claimant's messages, and the work each change schedules."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from config.queue import task
from events.models import Event

# An event still not dispatched this long after it was written had its dispatch fail (the database went away
# mid-task, say): the next dispatch picks it up, so none is left behind.
STRAGGLER_AGE = timedelta(minutes=1)
STRAGGLERS_PER_RUN = 100


@task()
def events_dispatch(event_ids: list[str]) -> int:
    """Dispatch these events, then any stragglers; returns how many were dispatched."""
    ids = list(Event.objects.filter(id__in=event_ids, dispatched_at__isnull=True).values_list("pk", flat=True))
    old = timezone.now() - STRAGGLER_AGE
    stragglers = Event.objects.filter(dispatched_at__isnull=True, created_at__lt=old).exclude(pk__in=ids)
    ids += list(stragglers.values_list("pk", flat=True)[:STRAGGLERS_PER_RUN])
    return sum(event_dispatch_one(pk) for pk in sorted(ids))


def event_dispatch_one(sequence: int) -> bool:
    """One event, once: under its row lock, everything it leads to is written, then it is marked dispatched."""
    from events.scheduling import schedule_for_event
    from notifications.services import notifications_for_event
    from webhooks.services import deliveries_for_event

    with transaction.atomic():
        event = Event.objects.select_for_update(skip_locked=True).filter(pk=sequence, dispatched_at=None).first()
        if event is None:
            return False
        deliveries_for_event(event)
        notifications_for_event(event)
        schedule_for_event(event)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    return True
