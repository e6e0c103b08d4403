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
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.contact import Bilingual
from appointments.models import Appointment, Department, Status, organisation_contact, reminder_hours
from appointments.representation import representation
from claimants.models import Claimant
from config.actors import Actor
from config.languages import ENGLISH, WELSH
from config.local_time import local_words
from config.queue import backoff, enqueue_at
from events.models import Event, EventType
from ledger.services import Happening, lock_appointment, record
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
    """A message to send: its kind, its key (sent once per channel), the appointment as announced and, when it
    carries one, its calendar invitation's details (written in the claimant's language when sent)."""

    kind: str
    key: str
    appointment: Mapping[str, Any]
    calendar: Mapping[str, Any] | None = None


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
    calendar = {
        "appointment_id": event.appointment_id,
        "start": datetime.fromisoformat(representation["appointment_at"].replace("Z", "+00:00")),
        "minutes": representation["duration_in_minutes"],
        "link": representation["url"],
        "sequence": calendar_sequence(event.appointment_id, up_to=event.sequence),
        "stamp": event.created_at,
        "cancelled": kind == Kind.CANCELLED,
    }
    return Message(kind, f"event:{event.id}", representation, calendar)


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


def when_in_words(value: str, language: str = ENGLISH) -> str:
    """`2026-12-01T10:30:00.000Z` as "Tuesday 1 December 2026 at 10:30 GMT" in the claimant's time zone and
    language (config/local_time.py)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return local_words(moment, ZoneInfo(settings.NOTIFICATION_TIME_ZONE), language)


def message_send(message: Message) -> dict[str, str]:
    """Send the message by each channel the claimant has, once each; returns what happened per channel.
    Raises when a channel failed and should be tried again (the task retries it)."""
    claimant = message.appointment["claimant"]
    channels = channels_of(claimant)
    department = Department.objects.filter(pk=message.appointment["department"]["id"]).first()
    languages = message_languages(message.appointment["id"], department)
    context = {
        "appointment": message.appointment,
        "claimant_name": claimant["name"],
        # Its name as the department has it now, in each language the message is written in (Welsh where it has one).
        "department": department.shown_name if department is not None else message.appointment["department"]["name"],
        # How to reach the department, as it is when the message is sent (issue 17.8).
        "contact": department.contact if department is not None else organisation_contact(),
        "languages": languages,
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


def channels_of(claimant: Mapping[str, Any]) -> dict[str, str | None]:
    """Each channel with the claimant's address on it (the representation's claimant), None where they have none:
    email when they have an address, a text message when they have a phone number."""
    return {Channel.EMAIL: claimant.get("email"), Channel.SMS: claimant.get("phone_number")}


class RetryLater(Exception):
    pass


def message_languages(appointment_id: Any, department: Department | None) -> list[str]:
    """The languages a message is written in (issue 22.1): the claimant's choice as it is when it is sent; else the
    department's default language, or Welsh and English, Welsh first, for a bilingual department."""
    chosen = Claimant.objects.filter(appointment_id=appointment_id).values_list("preferred_language", flat=True)
    language = chosen.first()
    if language:
        return [language]
    if department is None:
        return [ENGLISH]
    return [WELSH, ENGLISH] if department.bilingual else [department.default_language]


def _written(template: str, context: dict[str, Any], between: str) -> str:
    """`template` in each of the message's languages, in order, with the time in words in each."""
    texts = []
    for language in context["languages"]:
        with translation.override(language):
            when = when_in_words(context["appointment"]["appointment_at"], language)
            texts.append(render_to_string(template, {**context, "when": when}).strip())
    return between.join(texts)


def _written_html(template: str, context: dict[str, Any]) -> str:
    """The HTML message: one document, each language's body in a block of its own `lang` (Welsh first)."""
    first, *others = [_written(template, {**context, "languages": [code]}, "") for code in context["languages"]]
    for code, other in zip(context["languages"][1:], others, strict=True):
        body = other.split(">", 1)[1] if other.startswith("<body") else other.partition("<body")[2].partition(">")[2]
        body = body.rpartition("</body>")[0]
        first = first.replace("</body>", f'<hr><div lang="{code}">{body}</div>\n</body>', 1)
    return first


def _send_once(message: Message, channel: str, recipient: str, context: dict[str, Any]) -> str:
    key = f"{message.key}:{channel}"
    subject = _written(f"notifications/{message.kind}_subject.txt", context, " / ")
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
            send_sms(recipient, _written(f"notifications/{message.kind}_sms.txt", context, "\n\n"))
    except Exception as exc:  # any backend's failure: kept, and tried again
        logger.warning("Sending %s by %s failed: %s", message.kind, channel, exc.__class__.__name__)
        note.error = f"{exc.__class__.__name__}: {exc}"[:300]
        note.status = NotificationStatus.FAILED if note.attempts > len(RETRIES) else NotificationStatus.PENDING
        with transaction.atomic():
            note.save(update_fields=["attempts", "error", "status"])
            _ledger(note, "message.failed", final=note.status == NotificationStatus.FAILED)
        return "failed" if note.status == NotificationStatus.PENDING else "gave up"
    note.status = NotificationStatus.SENT
    note.sent_at = timezone.now()
    note.error = ""
    with transaction.atomic():
        note.save(update_fields=["attempts", "status", "sent_at", "error"])
        _ledger(note, "message.sent")
    return "sent"


def _ledger(note: Notification, kind: str, **details: Any) -> None:
    """The appointment's ledger entry of a message: which kind, by which channel (never its text or address)."""
    lock_appointment(note.appointment_id)
    data = {"notification_id": note.pk, "kind": note.kind, "channel": note.channel, "attempt": note.attempts}
    record(note.appointment_id, [Happening(kind, data | details)], actor=None)


def _email(message: Message, recipient: str, subject: str, context: dict[str, Any]) -> None:
    email = EmailMultiAlternatives(
        subject=subject,
        body=_written(f"notifications/{message.kind}.txt", context, "\n\n----------\n\n") + "\n",
        to=[recipient],
    )
    email.attach_alternative(_written_html(f"notifications/{message.kind}.html", context), "text/html")
    if message.calendar is not None:
        method = "CANCEL" if message.kind == Kind.CANCELLED else "REQUEST"
        ical = _invitation(message.calendar, context["languages"], context["department"])
        email.attach("appointment.ics", ical, f"text/calendar; method={method}; charset=utf-8")
    email.send()


def _invitation(calendar: Mapping[str, Any], languages: list[str], department: Bilingual | str) -> bytes:
    """The calendar invitation with its summary and description in the message's languages (the department named
    in each), its organiser in the first of them."""
    titles, descriptions = [], []
    for language in languages:
        with translation.override(language):
            titles.append(gettext("Video appointment with %(department)s") % {"department": department})
            descriptions.append(gettext("Join from your link: %(link)s") % {"link": calendar["link"]})
    with translation.override(languages[0]):
        organizer = str(department)
    return invitation(**calendar, organizer=organizer, title=" / ".join(titles), description="\n\n".join(descriptions))


def retry_delay(attempt: int) -> timedelta | None:
    """The wait before attempt `attempt + 1` of a message, or None when it has had its tries."""
    return backoff(RETRIES[attempt - 1]) if attempt - 1 < len(RETRIES) else None


# --- what the appointment's page lists (issue 24.4): messages overtaken, and a failed one sent again ------------


def announcement_overtaken(event_id: str) -> int:
    """Record that the message of an event was not sent because a later change made it moot (`announcement`
    returned None): one row per channel the claimant had an address on, so the appointment's page lists it
    as overtaken rather than not at all. A row already tried (pending a retry, or failed) becomes overtaken;
    returns how many rows say so."""
    event = Event.objects.filter(id=event_id).first()
    if event is None or event.appointment_id is None:
        return 0
    kind = ANNOUNCED[EventType(event.type)]
    claimant = event.content["appointment"]["claimant"]
    return _overtaken(event.appointment_id, kind, f"event:{event.id}", channels_of(claimant))


def reminder_overtaken(appointment_id: str, hours: int, scheduled_for: str) -> int:
    """As `announcement_overtaken`, for a reminder that `reminder` decided not to send."""
    claimant = Claimant.objects.filter(appointment_id=appointment_id).values("email", "phone_number").first()
    if claimant is None:
        return 0
    return _overtaken(appointment_id, Kind.REMINDER, f"reminder:{hours}:{scheduled_for}", channels_of(claimant))


def _overtaken(appointment_id: Any, kind: str, key: str, channels: Mapping[str, str | None]) -> int:
    marked = 0
    for channel, recipient in channels.items():
        if not recipient:
            continue
        note, created = Notification.objects.get_or_create(
            key=f"{key}:{channel}",
            defaults={
                "appointment_id": appointment_id,
                "kind": kind,
                "channel": channel,
                "recipient": recipient if channel == Channel.EMAIL else mask(recipient),
                "status": NotificationStatus.OVERTAKEN,
            },
        )
        if not created and note.status in (NotificationStatus.PENDING, NotificationStatus.FAILED):
            note.status = NotificationStatus.OVERTAKEN
            note.save(update_fields=["status"])
        marked += note.status == NotificationStatus.OVERTAKEN
    return marked


class CannotSendAgain(Exception):
    """Only a message that failed (had its tries and gave up) is sent again."""


def notification_send_again(*, notification_id: int, appointment_id: Any, actor: Actor) -> Notification:
    """A failed message tried again, as a staff member asked from the appointment's page: its tries start anew
    (the same retries as a first send), it is recorded in the appointment's ledger with who asked, and the task
    that sends it is enqueued in this transaction. The task decides again when it runs, as for a first send: a
    message a later change has made moot is then overtaken, not sent. Raises CannotSendAgain for a message that
    did not fail (sent, pending, overtaken, not configured) or is not the appointment's."""
    from notifications.tasks import resend_task  # the task module imports this one

    with transaction.atomic():
        lock_appointment(appointment_id)
        note = (
            Notification.objects.select_for_update().filter(pk=notification_id, appointment_id=appointment_id).first()
        )
        if note is None or note.status != NotificationStatus.FAILED:
            raise CannotSendAgain("Only a message that failed can be sent again.")
        job, args = resend_task(note)
        note.status = NotificationStatus.PENDING
        note.attempts = 0
        note.save(update_fields=["status", "attempts"])
        data = {"notification_id": note.pk, "kind": note.kind, "channel": note.channel}
        record(note.appointment_id, [Happening("message.resend_requested", data)], actor=actor)
        enqueue_at(job, None, *args)
    return note
