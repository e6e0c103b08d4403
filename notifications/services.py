"""The claimant's messages: when an appointment is booked, moved or cancelled, and reminders before it.

Each message is planned when its event is dispatched and sent by a task of its own; the task decides again
when it runs, from the appointment as it is then: a booking or a move that a later change has overtaken is
not announced, and a reminder for a time that has since moved, or for an appointment no longer live, is
never sent. Email when the claimant has an address, a text message when they have a phone number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from appointments.models import Appointment, Department, Status, organisation_contact, reminder_hours
from appointments.representation import representation
from config.queue import backoff
from events.models import Event, EventType
from meetings.calendar import calendar_sequence, invitation
from notifications.models import Channel, Kind, Notification, NotificationStatus
from notifications.sms import mask, send_sms, sms_configured

logger = logging.getLogger(__name__)

ANNOUNCED = {
    EventType.APPOINTMENT_CREATED: Kind.BOOKED,
    EventType.APPOINTMENT_RESCHEDULED: Kind.RESCHEDULED,
    EventType.APPOINTMENT_CANCELLED: Kind.CANCELLED,
    EventType.APPOINTMENT_MISSED: Kind.MISSED,
}
LIVE = (Status.SCHEDULED, Status.WAITING)
RETRIES = (60, 5 * 60, 30 * 60, 2 * 3600)


@dataclass(frozen=True)
class Message:
    kind: str
    key: str
    appointment: Mapping[str, Any]
    invitation: bytes | None = None


def announcement(event_id: str) -> Message | None:
    """The message an event announces, or None when a later change has made it moot."""
    event = Event.objects.filter(id=event_id).first()
    if event is None or event.appointment_id is None:
        return None
    kind = ANNOUNCED[EventType(event.type)]
    representation = event.content["appointment"]
    current = Appointment.objects.filter(pk=event.appointment_id).values("status", "appointment_at").first()
    if current is None:
        return None
    if kind in (Kind.BOOKED, Kind.RESCHEDULED):
        at = datetime.fromisoformat(representation["appointment_at"].replace("Z", "+00:00"))
        if current["status"] not in LIVE or abs(current["appointment_at"] - at) >= timedelta(milliseconds=1):
            return None
    if kind == Kind.MISSED:  # the time has passed: nothing for a calendar to do
        return Message(kind, f"event:{event.id}", representation)
    department = representation["department"]["name"]
    ical = invitation(
        appointment_id=event.appointment_id,
        start=datetime.fromisoformat(representation["appointment_at"].replace("Z", "+00:00")),
        minutes=representation["duration_in_minutes"],
        title=f"Video appointment with {department}",
        link=representation["url"],
        organizer=department,
        sequence=calendar_sequence(event.appointment_id, up_to=event.sequence),
        stamp=event.created_at,
        cancelled=kind == Kind.CANCELLED,
    )
    return Message(kind, f"event:{event.id}", representation, ical)


def reminder(appointment_id: str, hours: int, scheduled_for: str) -> Message | None:
    """The reminder, or None when the appointment moved, is no longer live, or its department dropped it."""
    appointment = Appointment.objects.with_related().filter(pk=appointment_id).first()
    if appointment is None or appointment.status not in LIVE:
        return None
    if appointment.appointment_at != datetime.fromisoformat(scheduled_for):
        return None
    if hours not in reminder_hours(appointment.department.reminder_hours):
        return None
    if appointment.appointment_at <= timezone.now():
        return None
    shown = representation(appointment)
    return Message(Kind.REMINDER, f"reminder:{hours}:{scheduled_for}", shown)


def when_in_words(value: str) -> str:
    """`2026-12-01T10:30:00.000Z` as "Tuesday 1 December 2026 at 10:30 GMT" in the claimant's time zone."""
    local = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo(settings.NOTIFICATION_TIME_ZONE))
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()}"


def message_send(message: Message) -> dict[str, str]:
    """Send the message by each channel the claimant has, once each; returns what happened per channel.
    Raises when a channel failed and should be tried again (the task retries it)."""
    claimant = message.appointment["claimant"]
    channels = {Channel.EMAIL: claimant.get("email"), Channel.SMS: claimant.get("phone_number")}
    department = Department.objects.filter(pk=message.appointment["department"]["id"]).first()
    context = {
        "appointment": message.appointment,
        "claimant_name": claimant["name"],
        "department": message.appointment["department"]["name"],
        # How to reach the department, as it is when the message is sent (issue 17.8).
        "contact": department.contact if department is not None else organisation_contact(),
        "when": when_in_words(message.appointment["appointment_at"]),
        "duration": message.appointment["duration_in_minutes"],
        "link": message.appointment["url"],
    }
    results: dict[str, str] = {}
    failures: list[str] = []
    for channel, recipient in channels.items():
        if not recipient:
            results[channel] = "no address"
            continue
        outcome = _send_once(message, channel, recipient, context)
        results[channel] = outcome
        if outcome.startswith("failed"):
            failures.append(channel)
    if failures:
        raise RetryLater(", ".join(failures))
    return results


class RetryLater(Exception):
    pass


def _send_once(message: Message, channel: str, recipient: str, context: dict[str, Any]) -> str:
    key = f"{message.key}:{channel}"
    subject = render_to_string(f"notifications/{message.kind}_subject.txt", context).strip()
    try:
        with transaction.atomic():
            note, _ = Notification.objects.get_or_create(
                key=key,
                defaults={
                    "appointment_id": message.appointment["id"],
                    "kind": message.kind,
                    "channel": channel,
                    "recipient": recipient if channel == Channel.EMAIL else mask(recipient),
                    "subject": subject,
                },
            )
    except IntegrityError:  # another worker made it a moment ago
        note = Notification.objects.get(key=key)
    if note.status == NotificationStatus.SENT:
        return "already sent"
    if channel == Channel.SMS and not sms_configured():  # listed, never marked sent, and not tried again
        note.status = NotificationStatus.NOT_CONFIGURED
        note.error = "Not sent: no SMS backend is configured (SMS_BACKEND)."
        note.save(update_fields=["status", "error"])
        return "not configured"
    note.attempts += 1
    try:
        if channel == Channel.EMAIL:
            _email(message, recipient, subject, context)
        else:
            send_sms(recipient, render_to_string(f"notifications/{message.kind}_sms.txt", context).strip())
    except Exception as exc:  # any backend's failure: kept, and tried again
        logger.warning("Sending %s by %s failed: %s", message.kind, channel, exc.__class__.__name__)
        note.error = f"{exc.__class__.__name__}: {exc}"[:300]
        note.status = NotificationStatus.FAILED if note.attempts > len(RETRIES) else NotificationStatus.PENDING
        note.save(update_fields=["attempts", "error", "status"])
        return "failed" if note.status == NotificationStatus.PENDING else "gave up"
    note.status = NotificationStatus.SENT
    note.sent_at = timezone.now()
    note.error = ""
    note.save(update_fields=["attempts", "status", "sent_at", "error"])
    return "sent"


def _email(message: Message, recipient: str, subject: str, context: dict[str, Any]) -> None:
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/{message.kind}.txt", context),
        to=[recipient],
    )
    email.attach_alternative(render_to_string(f"notifications/{message.kind}.html", context), "text/html")
    if message.invitation is not None:
        method = "CANCEL" if message.kind == Kind.CANCELLED else "REQUEST"
        email.attach("appointment.ics", message.invitation, f"text/calendar; method={method}; charset=utf-8")
    email.send()


def retry_delay(attempt: int) -> timedelta | None:
    """The wait before attempt `attempt + 1` of a message, or None when it has had its tries."""
    return backoff(RETRIES[attempt - 1]) if attempt - 1 < len(RETRIES) else None
