"""One worker delivers many webhooks at once (issue 26.5): the webhooks queue's loop takes due deliveries in a batch,
sends at most WEBHOOK_CONCURRENCY at a time over connections kept per endpoint (and per address checked), keeps
each appointment's events in order at each endpoint, and a worker killed mid-batch loses nothing: what it had
claimed is sent again once its hold ends, with the same webhook-id."""

import contextlib
import os
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.services import appointment_update
from events.models import Event
from ledger.models import Entry
from tests.factories import make_appointment
from tests.helpers import shared_database_only, wait_for
from tests.support import database_env, start_db_worker
from webhooks import http
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from worker.runner import run_batch

pytestmark = pytest.mark.django_db(transaction=True)


class KeepAlive:
    """A receiver that keeps connections open (HTTP/1.1) and counts them; each request waits `delay` seconds
    (the first `hang` requests wait `hang_for` instead), and the most requests it held at once is kept."""

    def __init__(self, delay: float = 0, host: str = "127.0.0.1", port: int = 0, hang: int = 0, hang_for: float = 0):
        self.received: list[tuple[str, bytes]] = []
        self.connections = 0
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections += 1

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((self.headers["webhook-id"], body))
                    hangs = len(receiver.received) <= hang
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                time.sleep(hang_for if hangs else delay)
                with receiver.lock:
                    receiver.in_flight -= 1
                with contextlib.suppress(ConnectionError):  # the sender was killed while waiting
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> "KeepAlive":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [webhook_id for webhook_id, _body in self.received]


@pytest.fixture(autouse=True)
def _local(settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def deliver_all() -> None:
    """The worker's loops as `db_worker --batch` runs them: the fan-out, then every batch of deliveries due now."""
    run_batch(queues=["default"], backend="default")
    run_batch(queues=["webhooks"], backend="default")


def changes(department: Any, appointments: int, updates: int) -> list[Any]:
    made = []
    for _ in range(appointments):
        appointment = make_appointment(department)
        for change in range(updates):
            bandwidth = ("low", "high")[change % 2]
            appointment_update(appointment=appointment, data={"features_bandwidth": bandwidth}, actor=None)
        made.append(appointment)
    return made


def test_many_in_flight_and_each_appointments_events_still_arrive_in_order(department, settings) -> None:
    settings.WEBHOOK_CONCURRENCY = 8
    with KeepAlive(delay=0.02) as first, KeepAlive(delay=0.02) as second:
        Endpoint.objects.create(department=department, url=first.url)
        Endpoint.objects.create(department=department, url=second.url)
        appointments = changes(department, appointments=12, updates=3)
        deliver_all()
    events = {f"msg_{e.id.hex}": e for e in Event.objects.all()}
    assert not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
    for receiver in (first, second):
        assert sorted(receiver.ids()) == sorted(events)  # each event once
        assert receiver.most_in_flight > 1  # several attempts were in flight together
        for appointment in appointments:
            sequences = [events[i].sequence for i in receiver.ids() if events[i].appointment_id == appointment.pk]
            assert sequences == sorted(sequences)
    # The ledger says each was delivered, as one attempt at a time said it.
    assert Entry.objects.filter(type="webhook.delivered").count() == 2 * len(events)


def test_no_more_than_the_concurrency_at_once(department, settings) -> None:
    settings.WEBHOOK_CONCURRENCY = 3
    with KeepAlive(delay=0.1) as receiver:
        Endpoint.objects.create(department=department, url=receiver.url, event_types=["appointment.created"])
        changes(department, appointments=12, updates=0)
        deliver_all()
    assert len(receiver.received) == 12
    assert receiver.most_in_flight == 3


def test_connections_are_kept_per_endpoint(department, settings) -> None:
    settings.WEBHOOK_CONCURRENCY = 4
    with KeepAlive() as first, KeepAlive() as second:
        Endpoint.objects.create(department=department, url=first.url)
        Endpoint.objects.create(department=department, url=second.url)
        changes(department, appointments=10, updates=2)
        deliver_all()
        events = Event.objects.count()
    assert len(first.received) == len(second.received) == events >= 30
    assert 1 <= first.connections <= 4
    assert 1 <= second.connections <= 4


def test_a_kept_connection_is_used_only_for_the_address_just_checked(settings, dns) -> None:
    """DNS rebinding: the host is resolved and checked on every attempt, and a connection kept to the address it
    had is not used once it resolves elsewhere."""
    with KeepAlive() as first:
        port = first.server.server_address[1]
        with KeepAlive(host="127.0.0.2", port=port) as second:
            pool = http.Pool(4)
            dns["rebind.example.com"] = ["127.0.0.1"]
            assert http.post(f"http://rebind.example.com:{port}/", b"{}", {"webhook-id": "a"}, pool).succeeded
            dns["rebind.example.com"] = ["127.0.0.2"]
            assert http.post(f"http://rebind.example.com:{port}/", b"{}", {"webhook-id": "b"}, pool).succeeded
            pool.close()
    assert (first.ids(), second.ids()) == (["a"], ["b"])


def test_a_batch_costs_the_same_statements_whatever_its_size(department, settings) -> None:
    """Claimed in one transaction and recorded in one: the statements of a batch do not grow with its deliveries
    (those of many rows are sent together, each row's once)."""
    counts = []
    for appointments in (3, 12):
        with KeepAlive() as receiver:
            Endpoint.objects.update(is_active=False)
            Endpoint.objects.create(department=department, url=receiver.url)
            changes(department, appointments=appointments, updates=0)
            run_batch(queues=["default"], backend="default")
            with CaptureQueriesContext(connection) as queries:
                run_batch(queues=["webhooks"], backend="default")
            assert len(receiver.received) == appointments
            counts.append(len([q for q in queries.captured_queries if not q["sql"].startswith("SAVEPOINT")]))
    assert counts[0] == counts[1]


@shared_database_only
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_again_only_what_was_in_flight(department) -> None:
    env = database_env() | {
        "WEBHOOK_ALLOW_HTTP_LOOPBACK": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "WEBHOOK_CONCURRENCY": "3",
        "WEBHOOK_TIMEOUT_SECONDS": "1",  # a batch of six in two rounds is held 2 x 3 + 5 = 11 s
        "TASK_LEASE_SECONDS": "2",
        "TASK_SWEEP_SECONDS": "1",
    }
    # The first three requests hang until the worker is killed; every later one is answered at once.
    with KeepAlive(hang=3, hang_for=30) as receiver:
        Endpoint.objects.create(department=department, url=receiver.url, event_types=["appointment.created"])
        changes(department, appointments=6, updates=0)
        run_batch(queues=["default"], backend="default")  # fanned out here: the worker takes all six at once
        worker = start_db_worker(env)
        try:
            wait_for(lambda: len(receiver.received) == 3, 60, "three requests in flight")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            # Claimed, not finished: all six held with their first attempt, none recorded.
            assert list(Delivery.objects.values_list("attempts", flat=True)) == [1] * 6
            assert not Delivery.objects.filter(held_until=None).exists()
            assert not Attempt.objects.exists()
            in_flight = set(receiver.ids())
            worker = start_db_worker(env)
            wait_for(
                lambda: not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists(), 90, "all delivered"
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    received = Counter(receiver.ids())
    events = [f"msg_{e.id.hex}" for e in Event.objects.all()]
    assert set(received) == set(events)
    assert {webhook_id for webhook_id, count in received.items() if count == 2} == in_flight
    assert sum(received.values()) == len(events) + len(in_flight)
    bodies: dict[str, set[bytes]] = {}
    for webhook_id, body in receiver.received:
        bodies.setdefault(webhook_id, set()).add(body)
    assert all(len(sent) == 1 for sent in bodies.values())  # the same body again
    assert Attempt.objects.filter(status_code=200).count() == len(events)
    assert Entry.objects.filter(type="webhook.delivered").count() == len(events)
