"""The claimant's messages, read from Django's outbox: booked, moved and cancelled with an invitation that keeps
one UID and raises its SEQUENCE, reminders at the department's hours that are never sent for a time that moved
or an appointment that was cancelled, text messages through the SMS backend, and failures retried."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from appointments.models import Appointment
from appointments.services import appointment_cancel, appointment_update
from notifications.models import Notification, NotificationStatus
from notifications.services import when_in_words
from notifications.sms import MemoryBackend
from tests.factories import make_appointment
from tests.helpers import SmtpServer, run_tasks

pytestmark = pytest.mark.usefixtures("sms_outbox")

CLAIMANT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone_number": "+447911123456",
    "data": {"Case number": "C-1"},
}


def booked(department, days: int = 3, **claimant: Any) -> Appointment:
    at = (timezone.now() + timedelta(days=days)).replace(hour=10, minute=30, second=0, microsecond=0)
    return make_appointment(department, appointment_at=at, claimant=CLAIMANT | claimant)


def invitation(message: Any) -> tuple[Calendar, Any]:
    (name, content, mimetype) = message.attachments[0]
    assert name == "appointment.ics"
    assert mimetype.startswith("text/calendar; method=")
    calendar = Calendar.from_ical(content)
    return calendar, calendar.walk("VEVENT")[0]


class TestBookedMovedCancelled:
    def test_a_booking_sends_the_link_the_time_in_words_and_an_invitation(self, department) -> None:
        appointment = booked(department)
        run_tasks()
        [message] = mail.outbox
        assert message.to == ["ada@example.com"]
        words = when_in_words(appointment.appointment_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        assert message.subject == f"Your video appointment with Claims: {words}"
        link = f"http://127.0.0.1:8000/join/{appointment.public_token}"
        assert link in message.body
        assert isinstance(message, EmailMultiAlternatives)
        html, kind = message.alternatives[0]
        assert kind == "text/html"
        assert f'href="{link}"' in str(html)
        calendar, event = invitation(message)
        assert str(calendar["method"]) == "REQUEST"
        assert str(event["uid"]) == f"appointment-{appointment.pk}@127.0.0.1"
        assert event["sequence"] == 0
        assert event.decoded("dtstart") == appointment.appointment_at
        assert event.decoded("dtend") == appointment.appointment_at + timedelta(minutes=60)
        assert str(event["status"]) == "CONFIRMED"
        assert MemoryBackend.outbox == [
            ("+447911123456", f"Claims: your video appointment is on {words}. Your link: {link}")
        ]

    def test_a_move_and_a_cancel_update_the_same_calendar_entry(self, department, agent) -> None:
        appointment = booked(department)
        moved_to = appointment.appointment_at + timedelta(days=1, hours=2)
        appointment_update(appointment=appointment, data={"appointment_at": moved_to}, actor=agent.user)
        run_tasks()
        appointment_cancel(appointment=appointment, reason="The claim was withdrawn.", actor=agent.user)
        run_tasks()
        # The booking was overtaken by the move before the worker ran: only the move is announced, then the cancel.
        assert [m.subject for m in mail.outbox] == [
            f"Your video appointment has moved: {when_in_words(moved_to.strftime('%Y-%m-%dT%H:%M:%S.000Z'))}",
            f"Your video appointment on {when_in_words(moved_to.strftime('%Y-%m-%dT%H:%M:%S.000Z'))} is cancelled",
        ]
        (_, moved), (cancel_calendar, cancelled) = (invitation(m) for m in mail.outbox)
        assert moved["uid"] == cancelled["uid"] == f"appointment-{appointment.pk}@127.0.0.1"
        assert (moved["sequence"], cancelled["sequence"]) == (1, 2)
        assert moved.decoded("dtstart") == moved_to
        assert (str(cancel_calendar["method"]), str(cancelled["status"])) == ("CANCEL", "CANCELLED")
        assert "The claim was withdrawn." in mail.outbox[1].body

    def test_each_message_is_sent_once_even_when_its_task_runs_twice(self, department) -> None:
        booked(department)
        task = DBTaskResult.objects.get(task_path="events.tasks.events_dispatch")
        run_tasks()
        send = DBTaskResult.objects.get(task_path="notifications.tasks.notification_send")
        DBTaskResult.objects.filter(pk=send.pk).update(status="READY")  # the worker died after sending
        run_tasks()
        assert len(mail.outbox) == 1
        assert len(MemoryBackend.outbox) == 1
        assert task.pk  # the dispatch itself ran once
        assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 2  # email and SMS

    def test_no_address_no_message(self, department) -> None:
        booked(department, email=None, phone_number=None)
        run_tasks()
        assert mail.outbox == []
        assert MemoryBackend.outbox == []


class Flaky(EmailBackend):
    """Fails the first send, as an SMTP server that is down for a moment."""

    failures = 1

    def send_messages(self, messages: Any) -> int:
        if Flaky.failures:
            Flaky.failures -= 1
            raise ConnectionRefusedError("SMTP is down")
        return super().send_messages(messages)


def test_a_failed_email_is_kept_and_tried_again(department, settings) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.test_messages.Flaky"
    Flaky.failures = 1
    booked(department, phone_number=None)
    run_tasks()
    note = Notification.objects.get()
    assert (note.status, note.attempts, note.error) == (
        NotificationStatus.PENDING,
        1,
        "ConnectionRefusedError: SMTP is down",
    )
    assert mail.outbox == []
    run_tasks(until=timezone.now() + timedelta(minutes=2))
    note.refresh_from_db()
    assert (note.status, note.attempts, note.error) == (NotificationStatus.SENT, 2, "")
    assert len(mail.outbox) == 1


class TestReminders:
    def reminders_due(self) -> list[tuple[datetime, list[Any]]]:
        tasks = DBTaskResult.objects.filter(task_path="notifications.tasks.reminder_send").order_by("run_after")
        return [(task.run_after, task.args_kwargs["args"]) for task in tasks]

    def test_reminders_are_enqueued_for_the_departments_hours(self, department) -> None:
        appointment = booked(department)
        run_tasks()
        at = appointment.appointment_at
        assert [when for when, _ in self.reminders_due()] == [at - timedelta(hours=24), at - timedelta(hours=1)]
        mail.outbox.clear()
        run_tasks(until=at - timedelta(minutes=59))
        words = when_in_words(at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        assert [m.subject for m in mail.outbox] == [f"Reminder: your video appointment is on {words}"] * 2

    def test_a_department_sets_its_own_hours_or_none(self, department) -> None:
        department.reminder_hours = "48"
        department.save()
        appointment = booked(department)
        run_tasks()
        assert [when for when, _ in self.reminders_due()] == [appointment.appointment_at - timedelta(hours=48)]
        department.reminder_hours = ""
        department.save()
        mail.outbox.clear()
        run_tasks(until=appointment.appointment_at)
        assert mail.outbox == []  # dropped since: the reminder checks again when it runs

    def test_a_reminder_for_a_time_that_moved_is_never_sent(self, department, agent) -> None:
        appointment = booked(department)
        run_tasks()
        old = appointment.appointment_at
        new = old + timedelta(days=2)
        appointment_update(appointment=appointment, data={"appointment_at": new}, actor=agent.user)
        run_tasks()
        mail.outbox.clear()
        run_tasks(until=old)  # the old reminders' time comes: they see the appointment moved
        assert mail.outbox == []
        run_tasks(until=new - timedelta(minutes=30))
        assert len([m for m in mail.outbox if m.subject.startswith("Reminder")]) == 2

    def test_no_reminder_for_a_cancelled_appointment(self, department, agent) -> None:
        appointment = booked(department)
        run_tasks()
        appointment_cancel(appointment=appointment, reason=None, actor=agent.user)
        run_tasks()
        mail.outbox.clear()
        MemoryBackend.outbox.clear()
        run_tasks(until=appointment.appointment_at)
        assert mail.outbox == []
        assert MemoryBackend.outbox == []

    def test_reminders_already_past_are_not_enqueued(self, department) -> None:
        soon = make_appointment(department, appointment_at=timezone.now() + timedelta(minutes=30), claimant=CLAIMANT)
        run_tasks()
        assert [args[0] for _, args in self.reminders_due() if args[0] == str(soon.pk)] == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-07-01T09:30:00.000Z", "Wednesday 1 July 2026 at 10:30 BST"),
        ("2026-12-01T09:30:00.000Z", "Tuesday 1 December 2026 at 09:30 GMT"),
        ("2026-10-25T00:30:00.000Z", "Sunday 25 October 2026 at 01:30 BST"),  # the night the clocks go back
        ("2026-10-25T01:30:00.000Z", "Sunday 25 October 2026 at 01:30 GMT"),
    ],
)
def test_the_time_in_words_is_the_claimants_local_time_labelled(value: str, words: str) -> None:
    assert when_in_words(value) == words
    assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo == UTC


def test_over_smtp_to_a_stand_in_server(department, settings) -> None:
    """The SMTP backend, as production configures it, against a local server that keeps what it receives."""
    import email

    with SmtpServer() as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        settings.DEFAULT_FROM_EMAIL = "appointments@claims.example.com"
        appointment = booked(department, phone_number=None)
        run_tasks()
    [(sender, recipients, raw)] = smtp.messages
    assert (sender, recipients) == ("appointments@claims.example.com", ["ada@example.com"])
    message = email.message_from_bytes(raw)
    parts = {part.get_content_type(): part for part in message.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= parts.keys()
    payload = parts["text/calendar"].get_payload(decode=True)
    assert isinstance(payload, bytes)
    ics = Calendar.from_ical(payload)
    assert str(ics.walk("VEVENT")[0]["uid"]) == f"appointment-{appointment.pk}@127.0.0.1"
    assert Notification.objects.get().status == NotificationStatus.SENT
