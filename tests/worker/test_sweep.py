"""The worker's leases and sweep (issue 18.2): a task left RUNNING by a worker that stopped renewing its lease runs
again, pending work that lost its task is enqueued again, a delivery waiting behind an earlier event makes no task
until it may go, and work stuck past the threshold is an ERROR once and makes the worker's /health/ready fail."""

import http.client
import json
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.services import appointment_update
from events.models import Event
from notifications.models import Notification, NotificationStatus
from tests.factories import make_appointment
from tests.helpers import Receiver, run_tasks
from tests.support import free_port
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.tasks import delivery_attempt
from worker import health
from worker.models import WorkerBeat
from worker.sweep import MOST_RUNS, alert, sweep

LATER = timedelta(days=3)
DELIVER = "webhooks.tasks.webhook_deliver"


@pytest.fixture(autouse=True)
def _local_receivers(settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.TASK_LEASE_SECONDS = 30
    settings.TASK_STUCK_AFTER_SECONDS = 900
    alert.stuck = False


# The sweepers of pending work these tests are about. The daily runs' sweepers (the ledger's digest, the retention
# run) enqueue their task on an empty queue whenever they sweep, by design: their own tests cover them, and here they
# would add a line to every sweep's answer.
ABOUT = {"events not dispatched", "webhook deliveries", "messages"}


@pytest.fixture(autouse=True)
def _only_pending_work(monkeypatch: pytest.MonkeyPatch) -> None:
    from worker import sweep as sweeping

    kept = {name: sweeper for name, sweeper in sweeping._sweepers.items() if name in ABOUT}
    monkeypatch.setattr(sweeping, "_sweepers", kept)


def claimed(task: DBTaskResult, *, ago: timedelta, worker: str = "gone") -> DBTaskResult:
    """The task as a worker left it when it was killed `ago`: RUNNING, claimed by `worker`."""
    task.status, task.started_at, task.worker_ids = "RUNNING", timezone.now() - ago, [*task.worker_ids, worker]
    task.save(update_fields=["status", "started_at", "worker_ids"])
    return task


def beat(worker: str, task: DBTaskResult | None, *, ago: timedelta = timedelta(0)) -> None:
    now = timezone.now() - ago
    WorkerBeat.objects.create(
        worker_id=worker, queue_name="default", process="test:1", started_at=now, seen_at=now,
        task_id=task.pk if task else None,
    )  # fmt: skip


def test_a_delivery_cut_short_by_a_killed_worker_is_attempted_again_when_its_lease_expires(department) -> None:
    with Receiver() as receiver:
        Endpoint.objects.create(department=department, url=receiver.url)
        make_appointment(department)
        run_tasks()  # the event fanned out: its delivery delivered
        delivery = Delivery.objects.get()
        # Sent again by hand, and the worker killed during its attempt: the task RUNNING, the delivery held.
        Delivery.objects.filter(pk=delivery.pk).update(status="pending", attempts=1, held_until=timezone.now())
        task = DBTaskResult.objects.create(
            task_path=DELIVER, args_kwargs={"args": [str(delivery.pk)], "kwargs": {}}, backend_name="default",
            run_after=timezone.now(), queue_name="default",
        )  # fmt: skip
        claimed(task, ago=timedelta(minutes=1))
        beat("gone", task, ago=timedelta(minutes=1))  # its worker's last beat
        assert run_tasks() == []  # nothing else would ever run it
        assert sweep() == {"tasks run again": 1}
        assert run_tasks() == ["webhook_deliver"]
    task.refresh_from_db()
    assert (task.status, len(task.worker_ids)) == ("SUCCESSFUL", 2)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert len(receiver.received) == 2


def test_a_task_whose_lease_is_renewed_or_that_was_just_claimed_is_left_running(department) -> None:
    make_appointment(department)
    renewed = DBTaskResult.objects.get()
    claimed(renewed, ago=timedelta(hours=1), worker="alive")
    beat("alive", renewed)  # a long task of a live worker
    appointment_update(appointment=make_appointment(department), data={"duration_in_minutes": 30}, actor=None)
    fresh = DBTaskResult.objects.filter(status="READY").earliest("enqueued_at")
    claimed(fresh, ago=timedelta(seconds=1), worker="booting")  # its worker has not beaten yet
    assert sweep() == {}
    assert set(DBTaskResult.objects.filter(status="RUNNING").values_list("pk", flat=True)) == {renewed.pk, fresh.pk}


def test_a_task_that_lost_its_worker_too_often_fails_with_an_error(department, caplog) -> None:
    make_appointment(department)
    task = DBTaskResult.objects.get()
    task.worker_ids = [f"w{n}" for n in range(MOST_RUNS - 1)]
    claimed(task, ago=timedelta(minutes=5))
    with caplog.at_level(logging.ERROR, logger="worker"):
        sweep()
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert task.exception_class_path == "worker.sweep.LeaseExpired"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"Task events_dispatch id={task.pk} lost its worker {MOST_RUNS} times: failed"
    ]


def test_waiting_behind_an_earlier_event_makes_no_task_until_it_may_go(department, agent) -> None:
    with Receiver(statuses=[500] * 4) as receiver:
        Endpoint.objects.create(department=department, url=receiver.url)
        appointment = make_appointment(department)
        run_tasks()  # its `created` failed once: retried in 5 s, 5 min, 30 min, 2 h
        for minutes in (30, 45, 60, 30, 45):
            appointment_update(appointment=appointment, data={"duration_in_minutes": minutes}, actor=agent.user)
        run_tasks(until=timezone.now() + LATER)
    waiting = Delivery.objects.exclude(event__type="appointment.created")
    # Each later delivery had one task: the wake of the one before it, once that one was delivered.
    for delivery in waiting:
        assert DBTaskResult.objects.filter(task_path=DELIVER, args_kwargs__args=[str(delivery.pk)]).count() == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    types = [event["type"] for event in receiver.events()]
    assert types[:5] == ["appointment.created"] * 5
    assert len(types) == 5 + waiting.count()


def test_an_earlier_event_whose_dispatch_was_lost_is_dispatched_by_the_sweep_and_the_later_one_follows(
    department, agent
) -> None:
    with Receiver() as receiver:
        Endpoint.objects.create(department=department, url=receiver.url)
        appointment = make_appointment(department)
        DBTaskResult.objects.filter(task_path="events.tasks.events_dispatch").update(status="FAILED")  # lost
        appointment_update(appointment=appointment, data={"duration_in_minutes": 30}, actor=agent.user)
        # The update's deliveries wait for `created`, without making tasks in a loop (run_tasks fails past 500).
        run_tasks(until=timezone.now() + timedelta(hours=1))
        assert receiver.received == []
        assert sweep() == {"events not dispatched enqueued again": 1}
        run_tasks()
    assert [event["type"] for event in receiver.events()] == [
        "appointment.created", "appointment.updated", "appointment.rescheduled",
    ]  # fmt: skip
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_a_pending_delivery_whose_task_failed_is_enqueued_again(department) -> None:
    with Receiver(statuses=[500]) as receiver:
        Endpoint.objects.create(department=department, url=receiver.url)
        make_appointment(department)
        run_tasks()
        DBTaskResult.objects.filter(task_path=DELIVER, status="READY").update(status="FAILED")  # its retry, lost
        assert sweep() == {"webhook deliveries enqueued again": 1}
        assert sweep() == {}  # once
        run_tasks(until=timezone.now() + timedelta(seconds=10))
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 2


def test_a_pending_message_whose_task_failed_is_enqueued_again(department, settings) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.test_messages.Flaky"
    from tests.notifications.test_messages import Flaky

    Flaky.failures = 1
    make_appointment(department, claimant={"name": "Ada", "email": "ada@example.com", "data": {"Case number": "1"}})
    run_tasks()
    note = Notification.objects.get()
    assert note.status == NotificationStatus.PENDING
    DBTaskResult.objects.filter(task_path="notifications.tasks.notification_send", status="READY").update(
        status="FAILED"
    )
    assert sweep() == {"messages enqueued again": 1}
    run_tasks()
    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.SENT, 2)
    assert len(mail.outbox) == 1


def get(port: int, path: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_a_delivery_stuck_past_the_threshold_is_one_error_and_the_worker_is_not_ready(department, caplog) -> None:
    import threading

    server = health.serve(free_port(), [threading.current_thread()])
    port = server.server_address[1]
    try:
        with Receiver() as receiver:
            Endpoint.objects.create(department=department, url=receiver.url)
            make_appointment(department)
            run_tasks()
            # Sent again by hand, and that task lost.
            Delivery.objects.update(status=DeliveryStatus.PENDING, attempts=0, finished_at=None)
            assert get(port, "/health/ready") == (200, {"status": "ok", "database": "ok", "stuck": {}})
            Delivery.objects.update(created_at=timezone.now() - timedelta(minutes=16))
            with caplog.at_level(logging.INFO, logger="worker"):
                sweep()
                sweep()  # still stuck: no second alert
                assert get(port, "/health/ready") == (
                    503,
                    {"status": "stuck", "database": "ok", "stuck": {"webhook deliveries": 1}},
                )
                run_tasks()  # the sweep's task delivers it
                sweep()
            assert get(port, "/health/ready")[0] == 200
            assert get(port, "/health/live") == (200, {"status": "ok"})
    finally:
        server.shutdown()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["Work is stuck (more than 900 s overdue): webhook deliveries: 1"]
    assert "Nothing is stuck any more" in [r.getMessage() for r in caplog.records]
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
    assert delivery_attempt(str(Delivery.objects.get().pk)) == "nothing to do"
