"""What 1,000 waiting claimants cost: the status poll against a static file served by the same server. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/status_poll.py

It builds a throwaway database with 1,000 appointments whose claimants sit in the waiting room, starts gunicorn
with ONE sync worker (persistent database connections), and drives it over HTTP from client threads, in
alternating rounds: a static file (the page's CSS, served by WhiteNoise) and the status poll, each claimant
polling with its ETag (so it gets a 304) and its poll also being its heartbeat (an UPDATE when due). It prints
requests per second for each, their ratio, latency percentiles, and how many waiting claimants one worker holds
at the page's poll interval (STATUS_POLL_SECONDS, 5 s by default).
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own, shared with the servers it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.models import Appointment, Department, Status  # noqa: E402
from bench.scale import fill  # noqa: E402
from claimants.models import ClaimantDataField, FieldType  # noqa: E402
from meetings.models import Participant, Role  # noqa: E402
from tests.support import gunicorn, throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STATIC = "/static/meetings/join.css"


def waiting_claimants(count: int) -> list[str]:
    department = Department.objects.create(name="Bench")
    field = ClaimantDataField.objects.create(department=department, name="Case number", type=FieldType.STRING)
    fill(department, [field], count)
    now = timezone.now()
    Appointment.objects.update(status=Status.WAITING, appointment_at=now + timedelta(minutes=5))
    Participant.objects.bulk_create(
        [
            Participant(
                appointment=a,
                role=Role.CLAIMANT,
                display_name="Claimant",
                token=a.public_token,
                device_checked_at=now,
                joined_waiting_at=now,
                last_seen_at=now,
            )
            for a in Appointment.objects.only("pk", "public_token")
        ],
        batch_size=1000,
    )
    return list(Participant.objects.values_list("token", flat=True))


def load(
    port: int, paths: list[str], seconds: float, threads: int, etags: dict[str, str]
) -> tuple[float, list[float], Counter[int]]:
    """Requests per second over `seconds` from `threads` clients cycling through `paths`; each claimant keeps the
    ETag of its last answer in `etags`, as the page does."""
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        mine: list[float] = []
        seen: Counter[int] = Counter()
        n = offset
        while time.perf_counter() < stop:
            path = paths[n % len(paths)]
            n += threads
            headers = {"If-None-Match": etags[path]} if path in etags else {}
            began = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            mine.append(time.perf_counter() - began)
            seen[response.status] += 1
            tag = response.getheader("ETag")
            if tag and path != STATIC:
                etags[path] = tag
        with lock:
            latencies.extend(mine)
            codes.update(seen)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(latencies) / (time.perf_counter() - started), latencies, codes


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claimants", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with throwaway_database("bench_status_poll") as database:
        tokens = waiting_claimants(args.claimants)
        connection.close()
        env = {
            **database,
            "DB_CONN_MAX_AGE": "600",
            "PUBLIC_PAGE_RATE_PER_MINUTE": "0",  # one client address here; the limit is tested elsewhere
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "0",
        }
        with gunicorn(env, workers=1) as port:
            measure(port, tokens, args)


def measure(port: int, tokens: list[str], args: argparse.Namespace) -> None:
    """Interleaved rounds of the static file and the status poll; prints the table."""
    polls = [f"/join/{token}/status" for token in tokens]
    etags: dict[str, str] = {}
    load(port, [*polls, STATIC], 3.0, args.threads, etags)  # warm up: connections, ETags, caches
    static_rates, poll_rates = [], []
    static_lat: list[float] = []
    poll_lat: list[float] = []
    poll_codes: Counter[int] = Counter()
    for _ in range(args.rounds):
        rate, lat, _codes = load(port, [STATIC], args.seconds, args.threads, etags)
        static_rates.append(rate)
        static_lat += lat
        rate, lat, codes = load(port, polls, args.seconds, args.threads, etags)
        poll_rates.append(rate)
        poll_lat += lat
        poll_codes += codes
    static, poll = statistics.median(static_rates), statistics.median(poll_rates)
    interval = settings.STATUS_POLL_SECONDS
    print(f"{args.claimants} waiting claimants, 1 gunicorn sync worker, {args.threads} client threads, "
          f"{args.rounds} interleaved rounds of {args.seconds:.0f} s (medians)")  # fmt: skip
    print(f"{'':14} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}")
    for name, rate, lat in (("static file", static, static_lat), ("status poll", poll, poll_lat)):
        print(f"{name:14} {rate:>8.0f} {percentile(lat, 0.5):>7.1f} {percentile(lat, 0.95):>7.1f}")
    print(f"poll / static throughput: {poll / static:.2f}; poll answers: {dict(poll_codes)}")
    print(f"one worker holds about {poll * interval:.0f} waiting claimants polling every {interval} s")


if __name__ == "__main__":
    main()
