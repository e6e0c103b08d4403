"""Without an SMS backend (production's default) text messages are not attempted and are listed as "not
configured", never as sent; check --deploy warns about it, and about a backend that delivers nothing (issue 18.17)."""

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import Channel, Notification, NotificationStatus
from notifications.sms import MemoryBackend
from tests.factories import make_appointment
from tests.helpers import logged_in, run_tasks, staff

ROOT = Path(__file__).resolve().parents[2]
CLAIMANT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone_number": "+447911123456",
    "data": {"Case number": "C-1"},
}
PRINT_IT = "from django.conf import settings; print(repr(settings.SMS_BACKEND))"


def book(department: Any) -> Any:
    at = (timezone.now() + timedelta(days=3)).replace(hour=10, minute=30, second=0, microsecond=0)
    return make_appointment(department, appointment_at=at, claimant=CLAIMANT)


def deploy_messages() -> set[str]:
    return {m.id for m in run_checks(include_deployment_checks=True) if m.id and not m.is_silenced()}


def sms_backend_in_a_new_process(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SMS_BACKEND")}
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "manage.py", "shell", "-c", PRINT_IT],
        capture_output=True, text=True, cwd=ROOT, env={**base, **env}, timeout=120, check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


def test_production_has_no_sms_backend_by_default_and_development_logs() -> None:
    assert sms_backend_in_a_new_process(DEBUG="0") == "''"
    assert sms_backend_in_a_new_process(DEBUG="1") == "'notifications.sms.LoggingBackend'"


@pytest.mark.parametrize("backend", ["", "none"])
def test_without_a_backend_text_messages_are_not_attempted_and_listed_as_not_configured(
    settings, department, caplog, backend: str
) -> None:
    settings.SMS_BACKEND = backend
    MemoryBackend.outbox.clear()
    appointment = book(department)
    with caplog.at_level(logging.INFO):
        run_tasks()
    sms = Notification.objects.get(appointment=appointment, kind="booked", channel=Channel.SMS)
    assert sms.status == NotificationStatus.NOT_CONFIGURED
    assert (sms.attempts, sms.sent_at) == (0, None)
    assert sms.error == "Not sent: no SMS backend is configured (SMS_BACKEND)."
    email = Notification.objects.get(appointment=appointment, kind="booked", channel=Channel.EMAIL)
    assert email.status == NotificationStatus.SENT  # the email goes as before
    assert len(mail.outbox) == 1
    assert MemoryBackend.outbox == []
    assert not [r for r in caplog.records if r.name == "notifications.sms"]  # no "SMS to ..." line either
    result = DBTaskResult.objects.get(task_path="notifications.tasks.notification_send")
    assert result.return_value == {"email": "sent", "sms": "not configured"}
    # Not a failure: nothing is tried again.
    assert not DBTaskResult.objects.filter(task_path="notifications.tasks.notification_send", status="READY").exists()


def test_the_back_office_lists_them_as_not_configured(settings, department) -> None:
    settings.SMS_BACKEND = ""
    book(department)
    run_tasks()
    boss = logged_in(staff("boss", department, group="Department managers", superuser=True))
    page = boss.get("/admin/notifications/notification/?status__exact=not_configured")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Not configured" in html
    assert html.count('class="field-status"') == Notification.objects.filter(status="not_configured").count() > 0
    note = Notification.objects.get(status="not_configured", kind="booked")
    detail = boss.get(f"/admin/notifications/notification/{note.pk}/change/").content.decode()
    assert "Not configured" in detail
    assert "no SMS backend is configured" in detail


def test_a_backend_given_sends_and_records_sent(settings, department) -> None:
    settings.SMS_BACKEND = "notifications.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    book(department)
    run_tasks()
    assert len(MemoryBackend.outbox) == 1
    assert Notification.objects.get(channel=Channel.SMS, kind="booked").status == NotificationStatus.SENT
    MemoryBackend.outbox.clear()


@pytest.mark.parametrize(
    ("backend", "warning"),
    [
        ("", "notifications.W001"),  # not set: text messages are not sent
        ("notifications.sms.LoggingBackend", "notifications.W002"),  # sends nothing but records sent
        ("notifications.sms.MemoryBackend", "notifications.W002"),
        ("none", None),  # off on purpose
    ],
)
def test_check_deploy_warns_without_a_backend_that_delivers(settings, backend: str, warning: str | None) -> None:
    settings.SMS_BACKEND = backend
    found = {id_ for id_ in deploy_messages() if id_.startswith("notifications.")}
    assert found == ({warning} if warning else set())


def test_a_backend_that_does_not_import_fails_every_check(settings) -> None:
    settings.SMS_BACKEND = "notifications.sms.NoSuchBackend"
    assert "notifications.E001" in {m.id for m in run_checks()}
    settings.SMS_BACKEND = "notifications.models.Notification"
    assert "notifications.E002" in {m.id for m in run_checks()}
