"""The claimant's messages on the worker: planned when an event is dispatched, each sent by a task of its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from appointments.models import Appointment, reminder_hours
from config.queue import Task, enqueue_at, live_arguments, task
from events.models import Event, EventType
from notifications.models import Kind, Notification, NotificationStatus
from notifications.services import (
    ANNOUNCED,
    Message,
    RetryLater,
    announcement,
    message_send,
    reminder,
    retry_delay,
)


def _send(message: Message | None, again: Task[Any, Any], *args: object, attempt: int) -> dict[str, str]:
    if message is None:
        return {"skipped": "overtaken by a later change"}
    try:
        return message_send(message)
    except RetryLater as exc:
        delay = retry_delay(attempt)
        if delay is not None:
            enqueue_at(again, timezone.now() + delay, *args, attempt=attempt + 1)
        return {"retrying" if delay else "gave up": str(exc)}


@task(queue_name="messages")
def notification_send(event_id: str, attempt: int = 1) -> dict[str, str]:
    """The booking, move or cancel message of an event."""
    return _send(announcement(event_id), notification_send, event_id, attempt=attempt)


@task(queue_name="messages")
def reminder_send(appointment_id: str, hours: int, scheduled_for: str, attempt: int = 1) -> dict[str, str]:
    """A reminder, enqueued for `hours` before `scheduled_for`; it checks the appointment again when it runs."""
    message = reminder(appointment_id, hours, scheduled_for)
    return _send(message, reminder_send, appointment_id, hours, scheduled_for, attempt=attempt)


def notifications_for_event(event: Event) -> None:
    """Plan the messages an event leads to (in its dispatch transaction; registered with the outbox in
    `NotificationsConfig.ready()`)."""
    kind = ANNOUNCED.get(EventType(event.type))
    if kind is None or event.appointment_id is None:
        return
    if kind == Kind.CANCELLED and event.content["appointment"].get("outcome") is not None:
        return  # a missed appointment's claimant gets the apology of `appointment.missed`, not the cancellation
    enqueue_at(notification_send, None, str(event.id))
    if kind in (Kind.BOOKED, Kind.RESCHEDULED):
        appointment = Appointment.objects.select_related("department").get(pk=event.appointment_id)
        for hours in reminder_hours(appointment.department.reminder_hours):
            when = appointment.appointment_at - timedelta(hours=hours)
            if when > timezone.now():
                enqueue_at(reminder_send, when, str(appointment.pk), hours, appointment.appointment_at.isoformat())


# --- the worker's sweep (worker/sweep.py) ------------------------------------------------------------------------

SWEPT_PER_RUN = 500


def _orphans() -> list[tuple[Notification, Task[Any, Any], list[Any]]]:
    """Messages pending (an attempt failed, or was cut short) with no task that will try them again: each with
    the task and arguments that would."""
    live = {(notification_send.module_path, str(args[0])) for args in live_arguments(notification_send) if args}
    live |= {(reminder_send.module_path, ":".join(map(str, args[:3]))) for args in live_arguments(reminder_send)}
    found = []
    pending = Notification.objects.filter(status=NotificationStatus.PENDING).order_by("created_at")
    for note in pending[:SWEPT_PER_RUN]:
        kind, _, rest = note.key.partition(":")
        subject = rest.rsplit(":", 1)[0]  # without the channel
        job: Task[Any, Any]
        if kind == "event":
            job, args = notification_send, list[Any]([subject])
        elif kind == "reminder":
            hours, _, scheduled_for = subject.partition(":")
            job, args = reminder_send, [str(note.appointment_id), int(hours), scheduled_for]
        else:
            continue
        if (job.module_path, ":".join(map(str, args))) not in live:
            found.append((note, job, args))
            live.add((job.module_path, ":".join(map(str, args))))
    return found


def notifications_requeue() -> int:
    """Enqueue again every pending message that no task will try again (its task failed); returns how many."""
    orphans = _orphans()
    for note, job, args in orphans:
        enqueue_at(job, None, *args, attempt=note.attempts + 1)
    return len(orphans)


def notifications_stuck(cutoff: datetime) -> int:
    return sum(1 for note, _job, _args in _orphans() if note.created_at < cutoff)
