"""Fanning events out, on the worker: to every handler registered for the event's type (events/handlers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from config.queue import live_arguments, task
from events.handlers import handlers_for
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
    """One event, once: under its row lock, everything its handlers write is written, then it is marked
    dispatched."""
    with transaction.atomic():
        event = Event.objects.select_for_update(skip_locked=True).filter(pk=sequence, dispatched_at=None).first()
        if event is None:
            return False
        for handler in handlers_for(event.type):
            handler.handle(event)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    return True


# --- the worker's sweep (worker/sweep.py) ------------------------------------------------------------------------

SWEPT_PER_RUN = 500


def events_requeue() -> int:
    """Enqueue a dispatch of the events not yet dispatched that no task will dispatch (theirs failed); returns how
    many."""
    live = {str(event_id) for args in live_arguments(events_dispatch) if args for event_id in args[0]}
    waiting = Event.objects.filter(dispatched_at__isnull=True).values_list("id", flat=True)[:SWEPT_PER_RUN]
    orphans = [str(event_id) for event_id in waiting if str(event_id) not in live]
    if orphans:
        events_dispatch.enqueue(orphans)
    return len(orphans)


def events_stuck(cutoff: datetime) -> int:
    return Event.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff).count()
