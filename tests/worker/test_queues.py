"""One stalled outside service stops nothing else (issue 18.3): every outside call has a timeout (SMTP, text
messages, webhooks, the whole of a webhook's answer included), messages run in a queue of their own beside
webhooks and the scheduled checks, and no task may run longer than TASK_TIME_LIMIT_SECONDS."""

import json
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.models import Appointment, Status
from appointments.tasks import appointment_check_no_show
from config.history import update_with_history
from meetings.models import Meeting
from notifications.models import Notification, NotificationStatus
from tests.factories import make_appointment
from tests.helpers import Receiver, SmtpServer, shared_database_only, wait_for
from tests.support import database_env, db_worker, start_db_worker
from tests.worker.tasks import sleep_for
from webhooks import http
from webhooks.models import Endpoint

NO_EMAIL = {"name": "Grace Hopper", "data": {"Case number": "C-2"}}


def worker_env(smtp: SmtpServer) -> dict[str, str]:
    # EMAIL_TIMEOUT is left at its default.
    return database_env() | {
        "WEBHOOK_ALLOW_HTTP_LOOPBACK": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
    }


@shared_database_only
@pytest.mark.django_db(transaction=True)
def test_a_stalled_smtp_server_holds_up_neither_webhooks_nor_scheduled_checks(department) -> None:
    with SmtpServer(stall=True) as smtp, Receiver() as receiver:
        Endpoint.objects.create(
            department=department, url=receiver.url, event_types=["appointment.created", "appointment.no_show"]
        )
        with db_worker(worker_env(smtp)):
            make_appointment(department)  # its claimant has an email address: the message stalls
            wait_for(lambda: smtp.connections >= 1, 60, "the booking's email under way, stalled")
            # Meanwhile another booking, and the end of a meeting whose claimant never came.
            other = make_appointment(department, claimant=NO_EMAIL)
            ended = make_appointment(department, claimant=NO_EMAIL)
            start = timezone.now() - timedelta(hours=2)
            # Its time has passed (moved back without the rules, which would refuse a time in the past).
            ended.appointment_at = start
            meeting = Meeting.objects.get(appointment=ended)
            meeting.start_date, meeting.end_date = start, start + timedelta(hours=1)
            update_with_history([ended], ["appointment_at"], None)
            update_with_history([meeting], ["start_date", "end_date"], None)
            appointment_check_no_show.enqueue(str(ended.pk))
            wait_for(lambda: len(receiver.received) >= 4, 30, "the webhooks, while the SMTP server stalls")
            assert Notification.objects.get().status == NotificationStatus.PENDING  # still stalled
            assert Appointment.objects.get(pk=ended.pk).status == Status.NO_SHOW
            # And the stalled message fails within EMAIL_TIMEOUT (10 s), to be tried again later.
            wait_for(lambda: Notification.objects.get().attempts == 1, 30, "the email's attempt timed out")
    events = sorted((event["data"]["appointment"]["id"], event["type"]) for event in receiver.events())
    assert (str(other.pk), "appointment.created") in events
    assert (str(ended.pk), "appointment.no_show") in events
    note = Notification.objects.get()
    assert (note.status, note.error) == (
        NotificationStatus.PENDING,
        "SMTPServerDisconnected: Connection unexpectedly closed: timed out",
    )


@shared_database_only
@pytest.mark.django_db(transaction=True)
def test_a_task_past_the_time_limit_stops_the_worker_and_runs_again(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    env = database_env() | {"TASK_TIME_LIMIT_SECONDS": "1", "TASK_LEASE_SECONDS": "2", "LOG_FORMAT": "json"}
    task = sleep_for.enqueue(60)
    with log.open("w") as out:
        worker = start_db_worker(env, out)
        try:
            assert worker.wait(timeout=60) == 70
        finally:
            worker.kill()
    result = DBTaskResult.objects.get(pk=task.id)
    assert result.status == "RUNNING"  # left for its lease to expire: it runs again (until it has failed too often)
    errors = [json.loads(line) for line in log.read_text().splitlines() if '"ERROR"' in line]
    assert [error["message"] for error in errors] == [
        f"Task id={task.id} has run for more than 1 s: the worker stops, and the task runs again"
    ]


def test_a_webhook_answer_that_trickles_in_is_cut_off(settings) -> None:
    """A receiver that answers one byte at a time, each within the timeout, is given three timeouts in all."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        client, _ = listener.accept()
        client.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            if stop.wait(0.2):
                break
            try:
                client.sendall(bytes([byte]))
            except OSError:
                break
        client.close()

    threading.Thread(target=trickle, daemon=True).start()
    outcome: list[http.Outcome] = []
    poster = threading.Thread(
        target=lambda: outcome.append(http.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {})),
        daemon=True,
    )
    poster.start()
    poster.join(timeout=10)
    stop.set()
    listener.close()
    assert outcome, "the attempt was still waiting after 10 s"
    assert (outcome[0].status_code, outcome[0].error) == (None, "No complete answer within 1.5 s.")
    assert outcome[0].retryable
