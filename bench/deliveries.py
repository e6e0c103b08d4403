"""How many webhooks one worker delivers a second, against a bare HTTP client on the same receiver. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/deliveries.py

A local receiver (HTTP/1.1, keep-alive, on a free port) answers 200 at once and counts the connections it
accepted. N deliveries are made pending before the worker starts: A appointments with E events each (a create,
then changes), to K endpoints on that receiver, every event fanned out in this process first, so the worker
(`manage.py db_worker`, one process, as production runs it) does nothing but deliver. Reported:

- the baseline: the same number of POSTs of the same bodies from a bare loop in this process (`http.client`, one
  connection kept), in requests a second;
- the worker: deliveries a second from the first request received to the last, and its ratio to the baseline;
- the connections the receiver accepted, and whether every (appointment, endpoint) got its events in order.

Both are measured in one run, so the ratio holds on a loaded machine where the absolute figures do not.
It builds and drops its own database.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import os
import secrets
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from appointments.services import appointment_update  # noqa: E402
from events.models import Event  # noqa: E402
from events.tasks import event_dispatch_one  # noqa: E402
from tests.factories import DepartmentFactory, make_appointment  # noqa: E402
from tests.support import database_env, db_worker, throwaway_database  # noqa: E402
from webhooks.models import Delivery, DeliveryStatus, Endpoint  # noqa: E402


class Receiver:
    """Answers every POST with 200 at once (HTTP/1.1, so a client may keep its connection); keeps the arrival time
    and webhook-id of each, and counts the connections it accepted."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str, str]] = []
        self.connections = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                receiver.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.arrivals.append((time.perf_counter(), self.path, self.headers.get("webhook-id", "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        self.arrivals, self.connections = [], 0


def baseline(receiver: Receiver, bodies: list[bytes]) -> float:
    """A bare client loop, one connection kept: requests a second."""
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    started = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/bare", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    elapsed = time.perf_counter() - started
    conn.close()
    return len(bodies) / elapsed


def fill(receiver: Receiver, appointments: int, events: int, endpoints: int) -> list[bytes]:
    """Pending deliveries, fanned out here (the worker only delivers); returns the bodies the worker will send."""
    department = DepartmentFactory.create(name="Deliveries")
    for n in range(endpoints):
        Endpoint.objects.create(department=department, url=f"http://127.0.0.1:{receiver.port}/e{n}")
    for n in range(appointments):
        appointment = make_appointment(department, claimant={"name": f"C{n}", "data": {}})
        for change in range(events - 1):
            bandwidth = ("low", "high")[change % 2]
            appointment_update(appointment=appointment, data={"features_bandwidth": bandwidth}, actor=None)
    for sequence in Event.objects.filter(dispatched_at=None).order_by("sequence").values_list("pk", flat=True):
        event_dispatch_one(sequence)
    # The fan-out tasks' work is done above; the worker would find nothing to do in them.
    DBTaskResult.objects.exclude(queue_name="webhooks").delete()
    return [event.body.encode() for event in Event.objects.order_by("sequence")] * endpoints


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system, every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_order(receiver: Receiver) -> bool:
    """Each (appointment, endpoint) received its events in the order of their sequence."""
    rows = Event.objects.values_list("sequence", "id", "appointment_id")
    events = {f"msg_{uuid.hex}": (appointment, sequence) for sequence, uuid, appointment in rows}
    seen: dict[tuple[object, str], list[int]] = defaultdict(list)
    for _at, path, webhook_id in receiver.arrivals:
        appointment, sequence = events[webhook_id]
        seen[(appointment, path)].append(sequence)
    return all(sequences == sorted(sequences) for sequences in seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appointments", type=int, default=200)
    parser.add_argument("--events", type=int, default=5, help="events per appointment (a create, then changes)")
    parser.add_argument("--endpoints", type=int, default=3)
    args = parser.parse_args()
    receiver = Receiver()
    with throwaway_database("bench_deliveries"):
        bodies = fill(receiver, args.appointments, args.events, args.endpoints)
        count = Delivery.objects.filter(status=DeliveryStatus.PENDING).count()
        assert count == len(bodies), (count, len(bodies))
        bare = baseline(receiver, bodies)
        receiver.reset()
        connection.close()
        env = database_env() | {"WEBHOOK_ALLOW_HTTP_LOOPBACK": "1", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1"}
        started = time.perf_counter()
        cpu_first = cpu_last = 0.0
        with db_worker(env) as worker:
            while len(receiver.arrivals) < count and time.perf_counter() - started < 900:
                if not cpu_first and receiver.arrivals:
                    cpu_first = cpu_seconds(worker.pid)
                time.sleep(0.01)
            cpu_last = cpu_seconds(worker.pid)
        arrived = len(receiver.arrivals)
        assert arrived >= count, f"{arrived} of {count} arrived"
        assert not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
        span = receiver.arrivals[-1][0] - receiver.arrivals[0][0]
        rate = arrived / span
        shape = f"{args.appointments} appointments x {args.events} events x {args.endpoints} endpoints"
        knobs = f"WEBHOOK_BATCH_SIZE={settings.WEBHOOK_BATCH_SIZE}, WEBHOOK_CONCURRENCY={settings.WEBHOOK_CONCURRENCY}"
        print(f"{count} deliveries: {shape} ({knobs})")
        print(f"  bare client loop, one kept connection   {bare:7.0f} requests/s")
        print(f"  one worker (db_worker)                   {rate:7.0f} deliveries/s   {rate / bare:.2f}x the bare loop")
        print(
            f"  the worker's CPU time while delivering {(cpu_last - cpu_first) * 1000 / count:.2f} ms a delivery "
            f"(user and system, all its threads; load-independent, unlike the rates)"
        )
        print(
            f"  requests received {arrived} (a second copy: {arrived - count}), connections accepted "
            f"{receiver.connections}, in order per appointment and endpoint: {'yes' if in_order(receiver) else 'NO'}"
        )
        after = receiver.arrivals[0][0] - started
        print(f"  first request {after:.1f} s after the worker started (finished {timezone.now():%H:%M:%S} UTC)")


if __name__ == "__main__":
    main()
