"""What the outbox costs and what one worker delivers. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/outbox.py

1. A PATCH (duration and a claimant data value) through the API in this process (Django's test client, the
   whole middleware and view), interleaved: events on, events off (EVENTS_ENABLED), same appointment shape.
   It prints the median of each and their ratio, and the statements of each.
2. One worker (`manage.py db_worker`, its own process) delivering N webhooks to a local receiver that answers
   200 at once: deliveries per second, from the first to the last request received.

It builds and drops its own database.
"""

from __future__ import annotations

import argparse
import http.server
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own, shared with the servers it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.throttling import UserRateThrottle  # noqa: E402

from appointments.services import appointment_update  # noqa: E402
from claimants.models import ClaimantDataField, FieldType  # noqa: E402
from tests.factories import DepartmentFactory, make_appointment  # noqa: E402
from tests.support import database_env, db_worker, persona, throwaway_database  # noqa: E402
from webhooks.models import Endpoint  # noqa: E402


def patch_timings(rounds: int) -> None:
    UserRateThrottle.THROTTLE_RATES = {"user": "1000000/min"}  # the rate limit is not what is measured
    department = DepartmentFactory.create(name="Bench")
    ClaimantDataField.objects.create(department=department, name="Case number", type=FieldType.STRING)
    agent = persona("bench-agent", department)
    client = agent.client()
    appointment = make_appointment(department, claimant={"name": "Bench", "data": {"Case number": "B-0"}})
    item = appointment.claimant.data.get()
    url = f"/api/v1/appointments/{appointment.pk}"

    def one(n: int) -> float:
        body = {"duration_in_minutes": 30 + n % 2, "claimant": {"data": [{"id": str(item.pk), "value": f"B-{n}"}]}}
        started = time.perf_counter()
        response = client.patch(url, body, format="json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content
        return elapsed

    for n in range(50):  # warm up both paths
        settings.EVENTS_ENABLED = n % 2 == 0
        one(n)
    on: list[float] = []
    off: list[float] = []
    for n in range(rounds * 2):
        settings.EVENTS_ENABLED = n % 2 == 0
        (on if settings.EVENTS_ENABLED else off).append(one(n))
    statements = {}
    for n, enabled in enumerate((True, False), start=rounds * 2):  # values not written before: a real change
        settings.EVENTS_ENABLED = enabled
        with CaptureQueriesContext(connection) as queries:
            one(n)
        statements[enabled] = len(queries)
    settings.EVENTS_ENABLED = True
    on_ms, off_ms = statistics.median(on) * 1000, statistics.median(off) * 1000
    print(f"PATCH, in-process, {rounds} each, interleaved (median):")
    print(f"  events on   {on_ms:6.2f} ms   {statements[True]} statements")
    print(f"  events off  {off_ms:6.2f} ms   {statements[False]} statements")
    print(f"  ratio on/off {on_ms / off_ms:.2f}")


def deliveries_per_second(count: int) -> None:
    received: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(time.perf_counter())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    department = DepartmentFactory.create(name="Deliveries")
    Endpoint.objects.create(
        department=department, url=f"http://127.0.0.1:{server.server_address[1]}/", event_types=["appointment.updated"]
    )
    appointments = [make_appointment(department, claimant={"name": f"C{n}", "data": {}}) for n in range(10)]
    for n in range(count):  # spread over ten appointments: in order within each, not one long chain
        appointment = appointments[n % 10]
        bandwidth = ("low", "high")[n // 10 % 2]
        appointment_update(appointment=appointment, data={"features_bandwidth": bandwidth}, actor=None)
    connection.close()
    env = database_env() | {"WEBHOOK_ALLOW_HTTP_LOOPBACK": "1", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1"}
    started = time.perf_counter()
    with db_worker(env):
        while len(received) < count and time.perf_counter() - started < 600:
            time.sleep(0.05)
    server.shutdown()
    assert len(received) == count, f"{len(received)} of {count} arrived"
    span = received[-1] - received[0]
    print(f"One worker, {count} webhooks to a local receiver: {count / span:.0f} deliveries/s")
    print(f"  (first after {received[0] - started:.1f} s of start-up and the fan-out of {count} events)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--deliveries", type=int, default=500)
    args = parser.parse_args()
    with throwaway_database("bench_outbox"):
        patch_timings(args.rounds)
        deliveries_per_second(args.deliveries)


if __name__ == "__main__":
    main()
