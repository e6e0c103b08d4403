"""What the claimant was sent, in a real browser (issue 24.4): the agent finds the failed email on the appointment's
page, presses "Send again" (the change form's CSRF token goes with it), and the page lists it as sent once the
worker has run."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Channel, Notification, NotificationStatus
from tests.factories import make_appointment
from tests.helpers import PASSWORD, browser_sign_in, run_tasks, staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_sends_a_failed_email_again(live_server, page, department, settings) -> None:
    settings.SMS_BACKEND = ""
    settings.EMAIL_BACKEND = "tests.notifications.test_messages_panel.Down"
    at = (timezone.now() + timedelta(days=3)).replace(hour=10, minute=30, second=0, microsecond=0)
    appointment = make_appointment(
        department,
        appointment_at=at,
        claimant={"name": "Ada Lovelace", "email": "ada@example.com", "data": {"Case number": "C-1"}},
    )
    run_tasks(until=timezone.now() + timedelta(hours=3))
    email = Notification.objects.get(appointment=appointment, channel=Channel.EMAIL)
    assert email.status == NotificationStatus.FAILED
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff("desk", department)

    browser_sign_in(page, live_server.url, "desk", PASSWORD)
    page.goto(f"{live_server.url}/admin/appointments/appointment/{appointment.pk}/change/")
    row = page.locator("#messages tr.message-failed")
    assert row.locator("td").all_inner_texts()[:3] == ["Booked", "Email", "Failed"]
    row.locator("button.send-again").click()
    page.wait_for_selector(".messagelist .success")
    assert "Booked by Email: sending again." in page.inner_text(".messagelist")
    email.refresh_from_db()
    assert (email.status, email.attempts) == (NotificationStatus.PENDING, 0)

    run_tasks()
    page.reload()
    sent = page.locator("#messages tr.message-sent")
    assert sent.locator("td").all_inner_texts()[:3] == ["Booked", "Email", "Sent"]
    assert page.locator("#messages button.send-again").count() == 0
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert page.console_errors == []
