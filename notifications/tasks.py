from __future__ import annotations

from typing import Any

from django.utils import timezone

from config.queue import Task, enqueue_at, task
from notifications.services import Message, RetryLater, announcement, message_send, reminder, retry_delay


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


@task()
def notification_send(event_id: str, attempt: int = 1) -> dict[str, str]:
    """The booking, move or cancel message of an event."""
    return _send(announcement(event_id), notification_send, event_id, attempt=attempt)


@task()
def reminder_send(appointment_id: str, hours: int, scheduled_for: str, attempt: int = 1) -> dict[str, str]:
    """A reminder, enqueued for `hours` before `scheduled_for`; it checks the appointment again when it runs."""
    message = reminder(appointment_id, hours, scheduled_for)
    return _send(message, reminder_send, appointment_id, hours, scheduled_for, attempt=attempt)
