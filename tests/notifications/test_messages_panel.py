"""What the claimant was sent, on the appointment's page (issue 24.4): each message by channel with its status
(sent, failed, not configured, overtaken), and "Send again" for a failed one: through the notifications service and
its task, permission-checked, CSRF-protected, recorded in the ledger with who asked."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.services import appointment_update
from ledger.services import entries_of
from notifications.models import Channel, Notification, NotificationStatus
from notifications.sms import MemoryBackend
from tests.factories import make_appointment
from tests.helpers import logged_in, run_tasks, staff

pytestmark = pytest.mark.usefixtures("sms_outbox")

CLAIMANT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone_number": "+447911123456",
    "data": {"Case number": "C-1"},
}


class Down(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("SMTP is down")


def book(department: Any) -> Any:
    at = (timezone.now() + timedelta(days=3)).replace(hour=10, minute=30, second=0, microsecond=0)
    return make_appointment(department, appointment_at=at, claimant=CLAIMANT)


def failed_booking(department: Any, settings: Any) -> Any:
    """A booking whose email had all its tries and failed (its text message went)."""
    settings.EMAIL_BACKEND = "tests.notifications.test_messages_panel.Down"
    appointment = book(department)
    run_tasks(until=timezone.now() + timedelta(hours=3))  # every retry, none of the reminders (days away)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return appointment


def page(client: Client, appointment: Any) -> str:
    response = client.get(f"/admin/appointments/appointment/{appointment.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str) -> str:
    return html.split('id="messages"', 1)[1].split("</table>", 1)[0]


def send_again_url(appointment: Any, note: Notification) -> str:
    return f"/admin/appointments/appointment/{appointment.pk}/messages/{note.pk}/send-again/"


def test_the_page_lists_each_message_by_channel_with_its_status(department, settings) -> None:
    appointment = failed_booking(department, settings)
    email = Notification.objects.get(appointment=appointment, kind="booked", channel=Channel.EMAIL)
    assert (email.status, email.attempts) == (NotificationStatus.FAILED, 5)
    html = panel(page(logged_in(staff("desk", department)), appointment))
    assert '<td>Booked</td>\n        <td>Email</td>\n        <td><span class="message-status">Failed</span>' in html
    assert "after 5 tries: ConnectionRefusedError: SMTP is down" in html
    assert '<td>Booked</td>\n        <td>SMS</td>\n        <td><span class="message-status">Sent</span>' in html
    assert html.count("Send again") == 1  # only the failed one
    assert send_again_url(appointment, email) in html


def test_a_message_overtaken_by_a_later_change_is_listed_as_overtaken(department, agent) -> None:
    appointment = book(department)
    moved_to = appointment.appointment_at + timedelta(days=1)
    appointment_update(appointment=appointment, data={"appointment_at": moved_to}, actor=agent.user)
    run_tasks()
    statuses = set(Notification.objects.filter(appointment=appointment).values_list("kind", "channel", "status"))
    assert statuses == {
        ("booked", "email", "overtaken"),
        ("booked", "sms", "overtaken"),
        ("rescheduled", "email", "sent"),
        ("rescheduled", "sms", "sent"),
    }
    assert len(mail.outbox) == 1  # the booking's was never sent
    html = panel(page(logged_in(staff("desk", department)), appointment))
    assert html.count("Overtaken") == 2
    assert html.count("<td>Moved</td>") == 2
    assert "Send again" not in html


def test_not_configured_is_listed(department, settings) -> None:
    settings.SMS_BACKEND = ""
    appointment = book(department)
    run_tasks()
    html = panel(page(logged_in(staff("desk", department)), appointment))
    assert '<td>SMS</td>\n        <td><span class="message-status">Not configured</span>' in html


def test_send_again_sends_the_failed_message_and_records_who_asked(department, settings) -> None:
    appointment = failed_booking(department, settings)
    email = Notification.objects.get(appointment=appointment, kind="booked", channel=Channel.EMAIL)
    desk = staff("desk", department)
    desk.first_name, desk.last_name = "Dana", "Reid"
    desk.save()
    before = len(entries_of(appointment.pk))

    answer = logged_in(desk).post(send_again_url(appointment, email))

    assert answer.status_code == 302
    assert answer["Location"] == f"/admin/appointments/appointment/{appointment.pk}/change/#messages"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (NotificationStatus.PENDING, 0)
    entries = list(entries_of(appointment.pk))[before:]
    assert [(e.type, e.data["channel"], e.personal_values.get("actor_name")) for e in entries] == [
        ("message.resend_requested", "email", "Dana Reid")
    ]
    assert DBTaskResult.objects.filter(task_path="notifications.tasks.notification_send", status="READY").count() == 1
    run_tasks()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.error) == (NotificationStatus.SENT, 1, "")
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert len(MemoryBackend.outbox) == 1  # the text message, sent the first time, is not sent twice
    assert list(entries_of(appointment.pk))[-1].type == "message.sent"
    assert "Send again" not in panel(page(logged_in(desk), appointment))


def test_only_a_failed_message_is_sent_again(department, settings) -> None:
    appointment = failed_booking(department, settings)
    sms = Notification.objects.get(appointment=appointment, channel=Channel.SMS)
    client = logged_in(staff("desk", department))
    answer = client.post(send_again_url(appointment, sms), follow=True)
    assert "Only a message that failed can be sent again." in answer.content.decode()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (NotificationStatus.SENT, 1)
    assert not DBTaskResult.objects.filter(task_path="notifications.tasks.notification_send", status="READY").exists()


def test_send_again_is_refused_without_the_right_or_outside_ones_departments(
    department, other_department, settings
) -> None:
    appointment = failed_booking(department, settings)
    email = Notification.objects.get(appointment=appointment, channel=Channel.EMAIL)
    elsewhere = logged_in(staff("elsewhere", other_department))
    assert elsewhere.post(send_again_url(appointment, email)).status_code == 404
    viewer = staff("viewer", department)
    viewer.groups.clear()
    viewer.user_permissions.add(*staff_view_permissions())
    assert logged_in(viewer).post(send_again_url(appointment, email)).status_code == 403
    assert logged_in(staff("desk", department)).get(send_again_url(appointment, email)).status_code == 405
    email.refresh_from_db()
    assert email.status == NotificationStatus.FAILED


def test_send_again_needs_the_pages_csrf_token(department, settings) -> None:
    appointment = failed_booking(department, settings)
    email = Notification.objects.get(appointment=appointment, channel=Channel.EMAIL)
    client = logged_in(staff("desk", department))
    client.handler.enforce_csrf_checks = True
    assert client.post(send_again_url(appointment, email)).status_code == 403
    email.refresh_from_db()
    assert email.status == NotificationStatus.FAILED
    page(client, appointment)  # the change page sets the token
    token = client.cookies["csrftoken"].value
    assert client.post(send_again_url(appointment, email), {"csrfmiddlewaretoken": token}).status_code == 302
    email.refresh_from_db()
    assert email.status == NotificationStatus.PENDING


def staff_view_permissions() -> list[Any]:
    from django.contrib.auth.models import Permission

    return list(Permission.objects.filter(codename__in=["view_appointment", "view_notification"]))
