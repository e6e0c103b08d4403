"""What waiting claimants cost: the status poll against a static file served by the same server. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/status_poll.py

It builds a throwaway database with 3,000 appointments whose claimants sit in the waiting room, each in the browser
that holds its link (the signed cookie the page sets, its digest on the participant, as after the identity check),
starts gunicorn with ONE sync worker (persistent database connections), and drives it over HTTP from client
threads, in alternating rounds: a static file (the page's CSS, served by WhiteNoise) and the status poll, each
claimant polling with its cookie and the ETag of its last answer (so it gets a 304: every claimant's ETag is taken
before the rounds), its poll also being its heartbeat. A page polling every STATUS_POLL_SECONDS writes its heartbeat
on one poll in heartbeat_every() / STATUS_POLL_SECONDS (one in four at 5 s and 20 s: meetings.services.pages), so
before each round of polls that share of the claimants is made due (their stored heartbeat older than the
threshold) and the rest just seen; with 3,000 claimants each comes round about once a round. `--due 1` makes every
claimant due, every poll a write, as before the threshold. It prints requests per second for each, their ratio,
latency percentiles, the share of polls that wrote a heartbeat, and how many waiting claimants one worker holds at
the page's poll interval (STATUS_POLL_SECONDS, 5 s by default).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
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
from django.core import signing  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Case, Value, When  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.models import Appointment, Department, Status  # noqa: E402
from bench.scale import DEPARTMENTS, fill  # noqa: E402
from claimants.models import ClaimantDataField, FieldType  # noqa: E402
from meetings.browsers import browser_digest, new_browser_key  # noqa: E402
from meetings.models import Participant, Role  # noqa: E402
from meetings.services.pages import heartbeat_every  # noqa: E402
from meetings.views import _BROWSER_COOKIE  # noqa: E402 (the page's cookie: its name, one declaration)
from tests.support import gunicorn, throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STATIC = "/static/meetings/join.css"


def held_link_cookie(token: str, key: str) -> str:
    """The Cookie header of the browser holding this link with this key, signed as meetings.views signs it (the
    link in its salt; HttpRequest.get_signed_cookie reads it)."""
    signed = signing.get_cookie_signer(salt=f"{_BROWSER_COOKIE}{token}").sign(key)
    return f"{_BROWSER_COOKIE}={signed}"


def waiting_claimants(count: int) -> dict[str, str]:
    """`count` appointments filled as bench/scale.py fills them (with an agent and a claimant each), every one in
    the waiting room with its claimant there (the device checked, joined, just seen) in the browser that holds the
    link; each claimant's poll path and the Cookie header that browser sends."""
    departments = [Department.objects.create(name=f"Bench {n}") for n in range(DEPARTMENTS)]
    fields = [
        str(ClaimantDataField.objects.create(department=d, name=name, type=FieldType.STRING, position=k).pk)
        for d in departments
        for k, name in enumerate(("Case number", "Reference"))
    ]
    now = timezone.now()
    fill(departments, fields, now + timedelta(days=1), 0, count)
    Appointment.objects.update(  # the fill's past ones were completed or cancelled: each now waits to start
        status=Status.WAITING,
        appointment_at=now + timedelta(minutes=5),
        cancelled_at=None,
        cancellation_reason=None,
        outcome=None,
        followed_up_at=None,
        followed_up_by=None,
        session_started_at=None,
        session_ended_at=None,
    )
    claimants = Participant.objects.filter(role=Role.CLAIMANT)
    claimants.update(device_checked_at=now, joined_waiting_at=now, last_seen_at=now)
    cookies: dict[str, str] = {}
    held = []
    for participant in claimants.only("pk", "token"):
        key = new_browser_key()
        participant.browser_digest = browser_digest(key)
        held.append(participant)
        cookies[f"/join/{participant.token}/status"] = held_link_cookie(participant.token, key)
    Participant.objects.bulk_update(held, ["browser_digest"], batch_size=1000)
    return cookies


def stagger(due: float) -> None:
    """The heartbeats as pages polling every STATUS_POLL_SECONDS leave them: a `due` share of the claimants (drawn
    afresh) with a stored heartbeat older than the threshold, so their next poll writes it, the others just seen,
    so theirs does not (within a round: the threshold is longer than a round)."""
    now = timezone.now()
    claimants = Participant.objects.filter(role=Role.CLAIMANT)
    ids = list(claimants.values_list("pk", flat=True))
    chosen = random.sample(ids, round(len(ids) * due))
    stale = now - heartbeat_every() - timedelta(minutes=1)
    claimants.update(last_seen_at=Case(When(pk__in=chosen, then=Value(stale)), default=Value(now)))
    connection.close()


def heartbeats() -> int:
    """Rows updated in the participants' table so far (PostgreSQL's statistics: the heartbeats), once the server's
    idle connection has reported its own (a backend reports at most once a second)."""
    time.sleep(2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = %s", [Participant._meta.db_table])
        return int(cursor.fetchone()[0])


def load(
    port: int, paths: list[str], seconds: float, threads: int, etags: dict[str, str], cookies: dict[str, str]
) -> tuple[float, list[float], Counter[int]]:
    """Requests per second over `seconds` (at most one pass over `paths` when `seconds` is 0) from `threads`
    clients cycling through `paths`; each claimant sends its browser's cookie and the ETag of its last answer,
    kept in `etags`, as the page does."""
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        mine: list[float] = []
        seen: Counter[int] = Counter()
        n = offset
        while time.perf_counter() < stop if seconds else n < len(paths):
            path = paths[n % len(paths)]
            n += threads
            headers = {"If-None-Match": etags[path]} if path in etags else {}
            if path in cookies:
                headers["Cookie"] = cookies[path]
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
    parser.add_argument("--claimants", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--due",
        type=float,
        default=settings.STATUS_POLL_SECONDS / heartbeat_every().total_seconds(),
        help="share of the claimants whose heartbeat is due before each round of polls (default: a real page's)",
    )
    parser.add_argument(
        "--also-due",
        type=float,
        help="also a round of polls with this share due after each (1: every poll writes, as before the threshold)",
    )
    args = parser.parse_args()

    with throwaway_database("bench_status_poll") as database:
        cookies = waiting_claimants(args.claimants)
        connection.close()
        env = {
            **database,
            "DB_CONN_MAX_AGE": "600",
            "PUBLIC_PAGE_RATE_PER_MINUTE": "0",  # one client address here; the limit is tested elsewhere
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "0",
        }
        with gunicorn(env, workers=1) as port:
            measure(port, cookies, args)


def measure(port: int, cookies: dict[str, str], args: argparse.Namespace) -> None:
    """Interleaved rounds of the static file and the status poll; prints the table."""
    polls = list(cookies)
    etags: dict[str, str] = {}
    load(port, [*polls, STATIC], 0, args.threads, etags, cookies)  # warm up: connections, caches, every ETag
    static_rates, poll_rates = [], []
    static_lat: list[float] = []
    poll_lat: list[float] = []
    poll_codes: Counter[int] = Counter()
    written = 0
    also_rates: list[float] = []
    also_written = also_total = 0
    for _ in range(args.rounds):
        rate, lat, _codes = load(port, [STATIC], args.seconds, args.threads, etags, cookies)
        static_rates.append(rate)
        static_lat += lat
        stagger(args.due)
        written -= heartbeats()  # after the stagger's own updates
        rate, lat, codes = load(port, polls, args.seconds, args.threads, etags, cookies)
        written += heartbeats()
        poll_rates.append(rate)
        poll_lat += lat
        poll_codes += codes
        if args.also_due is not None:
            stagger(args.also_due)
            also_written -= heartbeats()
            rate, lat, codes = load(port, polls, args.seconds, args.threads, etags, cookies)
            also_written += heartbeats()
            also_rates.append(rate)
            also_total += sum(codes.values())
    static, poll = statistics.median(static_rates), statistics.median(poll_rates)
    if also_rates:
        also = statistics.median(also_rates)
        print(f"status poll, {args.also_due:.0%} due: {also:.0f} req/s, heartbeats {also_written} "
              f"({also_written / max(also_total, 1):.0%} of polls); poll / static: {also / static:.2f}")  # fmt: skip
    interval = settings.STATUS_POLL_SECONDS
    print(f"{args.claimants} waiting claimants, 1 gunicorn sync worker, {args.threads} client threads, "
          f"{args.rounds} interleaved rounds of {args.seconds:.0f} s (medians)")  # fmt: skip
    print(f"{'':14} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}")
    for name, rate, lat in (("static file", static, static_lat), ("status poll", poll, poll_lat)):
        print(f"{name:14} {rate:>8.0f} {percentile(lat, 0.5):>7.1f} {percentile(lat, 0.95):>7.1f}")
    total = sum(poll_codes.values())
    print(f"poll answers: {dict(poll_codes)}; heartbeats written: {written} ({written / max(total, 1):.0%} of polls; "
          f"{args.due:.0%} of the claimants due before each round)")  # fmt: skip
    print(f"one worker holds about {poll * interval:.0f} waiting claimants polling every {interval} s")
    print(f"poll / static throughput: {poll / static:.2f}")


if __name__ == "__main__":
    main()
