"""The claimant's messages on the worker: planned when an event is dispatched, each sent by a task of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.utils import timezone

from appointments.models import Appointment, Department, reminder_hours
from config.queue import Task, enqueue_at, live_arguments, task
from events.models import Event, EventType
from notifications.models import Channel, Kind, Notification, NotificationStatus
from notifications.services import (
    ANNOUNCED,
    Message,
    RetryLater,
    announcement,
    announcement_overtaken,
    channels_of,
    message_send,
    reminder,
    reminder_overtaken,
    retry_delay,
)
from notifications.sms import sms_configured


def _send(
    message: Message | None, again: Task[Any, Any], *args: object, attempt: int, overtaken: Callable[[], int]
) -> dict[str, str]:
    if message is None:
        overtaken()  # listed on the appointment's page as overtaken (issue 24.4)
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
    overtaken = partial(announcement_overtaken, event_id)
    return _send(announcement(event_id), notification_send, event_id, attempt=attempt, overtaken=overtaken)


@task(queue_name="messages")
def reminder_send(appointment_id: str, hours: int, scheduled_for: str, attempt: int = 1) -> dict[str, str]:
    """A reminder, enqueued for `hours` before `scheduled_for`; it checks the appointment again when it runs."""
    message = reminder(appointment_id, hours, scheduled_for)
    overtaken = partial(reminder_overtaken, appointment_id, hours, scheduled_for)
    return _send(message, reminder_send, appointment_id, hours, scheduled_for, attempt=attempt, overtaken=overtaken)


def announced_kind(event_type: str, representation: Mapping[str, Any]) -> str | None:
    """The message an event of this type announces to the claimant, or None."""
    kind = ANNOUNCED.get(EventType(event_type))
    if kind == Kind.CANCELLED and representation.get("outcome") is not None:
        return None  # a missed appointment's claimant gets the apology of `appointment.missed`, not the cancellation
    return kind


def reminders_due(appointment_at: datetime, hours_setting: str, now: datetime) -> list[tuple[int, datetime]]:
    """The reminders a booking or a move plans: each of the department's hours before the time, still to come."""
    due = [(hours, appointment_at - timedelta(hours=hours)) for hours in reminder_hours(hours_setting)]
    return [(hours, when) for hours, when in due if when > now]


def notifications_for_event(event: Event) -> None:
    """Plan the messages an event leads to (in its dispatch transaction; registered with the outbox in
    `NotificationsConfig.ready()`)."""
    kind = announced_kind(event.type, event.content["appointment"])
    if kind is None or event.appointment_id is None:
        return
    enqueue_at(notification_send, None, str(event.id))
    if kind in (Kind.BOOKED, Kind.RESCHEDULED):
        appointment = Appointment.objects.select_related("department").get(pk=event.appointment_id)
        for hours, when in reminders_due(
            appointment.appointment_at, appointment.department.reminder_hours, timezone.now()
        ):
            enqueue_at(reminder_send, when, str(appointment.pk), hours, appointment.appointment_at.isoformat())


def notifications_foreseen(
    event_type: str, representation: Mapping[str, Any], previous: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The messages an event would lead to, planned and sent by nothing (a dry run; registered with the outbox's
    handlers): its announcement and the reminders it plans, on each channel the claimant has an address on (a text
    message only when an SMS backend is configured, as sending decides). A reminder is sent once per time it
    reminds of (its key, `reminder:<hours>:<time>`): for a time that does not move (a longer appointment) the
    reminders are those already planned, and none is new."""
    kind = announced_kind(event_type, representation)
    if kind is None:
        return []
    kinds = [kind]
    if kind in (Kind.BOOKED, Kind.RESCHEDULED) and representation["appointment_at"] != previous["appointment_at"]:
        department = Department.objects.filter(pk=representation["department"]["id"])
        hours = department.values_list("reminder_hours", flat=True).first() or ""
        at = datetime.fromisoformat(representation["appointment_at"].replace("Z", "+00:00"))
        kinds += [Kind.REMINDER for _due in reminders_due(at, hours, timezone.now())]
    channels = channels_of(representation["claimant"])
    usable = [name for name, address in channels.items() if address and (name != Channel.SMS or sms_configured())]
    return [(channel, each) for channel in usable for each in kinds]


def resend_task(note: Notification) -> tuple[Task[Any, Any], list[Any]]:
    """The task and arguments that send `note` (by its key): the sweep's for a message no task will try again,
    and a failed message sent again from the back office (notification_send_again)."""
    kind, _, rest = note.key.partition(":")
    subject = rest.rsplit(":", 1)[0]  # without the channel
    if kind == "event":
        return notification_send, [subject]
    if kind == "reminder":
        hours, _, scheduled_for = subject.partition(":")
        return reminder_send, [str(note.appointment_id), int(hours), scheduled_for]
    raise ValueError(f"no task sends a message keyed {note.key!r}")


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
        try:
            job, args = resend_task(note)
        except ValueError:
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
