"""What the back office's live pages cost (issue 24.2): the live endpoint each agent's open page polls (today's list,
the calendar, the waiting room: one mechanism, meetings/live.py) against a static file served by the same server, in
the shape of bench/status_poll.py. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/live_poll.py

It builds a throwaway database with a department of `--agents` agents, each with `--per-agent` appointments today
booked through the service (so each has its ledger entries) and a claimant waiting for every third, beside
`--background` ledger entries of other appointments; each agent is signed in (a session past the second factor).
It starts gunicorn with ONE sync worker (persistent database connections) and drives it over HTTP from client
threads in alternating rounds: a static file (the calendar's CSS, served by WhiteNoise) and the live poll, each
agent polling with the ETag of its last answer (a 304 while nothing changed, as a quiet day is). It prints requests
per second for each, their ratio, latency percentiles, and how many agents' open pages one worker holds at the
pages' poll interval (LIVE_POLL_SECONDS, 5 s by default).
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
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_static.models import StaticDevice  # noqa: E402

from appointments.local_time import local_day  # noqa: E402
from appointments.models import Appointment, Department  # noqa: E402
from appointments.services import appointment_create  # noqa: E402
from meetings.models import Participant, Role  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from tests.support import gunicorn, throwaway_database  # noqa: E402

STATIC = "/static/appointments/calendar.css"
LIVE = "/admin/appointments/appointment/live/"


def agents_day(agents: int, per_agent: int, background: int) -> list[str]:
    """The department, its agents' day and their sessions; returns each agent's session key."""
    now = timezone.now()
    # A zone where it is about 09:00 now, so the agents' day ahead is whole whatever the hour the bench runs at.
    behind = (now.hour - 9 + 12) % 24 - 12  # hours behind UTC, -12..11 (Etc/GMT+N is N hours behind)
    zone = f"Etc/GMT{'+' if behind >= 0 else '-'}{abs(behind)}"
    department = Department.objects.create(name="Bench", time_zone=zone)
    _start, end = local_day(now, ZoneInfo(zone))
    # The day's appointments from now on (the service books nothing in the past), spread so none overlaps.
    step = max(timedelta(minutes=5), min(timedelta(minutes=30), (end - now - timedelta(minutes=5)) / max(1, per_agent)))
    superuser = UserFactory.create(username="bench-superuser", is_superuser=True, is_staff=True)
    keys = []
    group = Group.objects.get(name="Agents")
    for n in range(agents):
        agent = UserFactory.create(username=f"agent{n}", is_staff=True)
        agent.groups.add(group)
        department.members.add(agent)
        for i in range(per_agent):
            appointment_create(
                department=department,
                appointment_at=now + timedelta(minutes=2) + i * step,
                duration_in_minutes=5,
                claimant={"name": f"Claimant {n}-{i}"},
                actor=superuser,
                agent_id=agent.pk,
            )
        device = StaticDevice.objects.create(user=agent, name="bench", confirmed=True)
        session = SessionStore()
        session[SESSION_KEY] = str(agent.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        keys.append(str(session.session_key))
    # Every third claimant waits (their participant joined the waiting room).
    waiting = [pk for i, pk in enumerate(Appointment.objects.order_by("appointment_at").values_list("pk", flat=True))
               if i % 3 == 0]  # fmt: skip
    Participant.objects.filter(appointment_id__in=waiting, role=Role.CLAIMANT).update(joined_waiting_at=now)
    if (
        background and connection.vendor == "postgresql"
    ):  # other appointments' ledger entries (no foreign key: the ledger outlives its appointments)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_entry (appointment_id, sequence, occurred_at, actor_type, actor_id, channel, type,"
                " data, personal_digest, previous_hash, hash) SELECT md5('bg' || (n / 10))::uuid, mod(n, 10) + 1,"
                " now(), 'system', '', 'command', 'appointment.updated', '{}'::jsonb, '', '', '' "
                "FROM generate_series(0, %s) AS n",
                [background - 1],
            )
    return keys


def load(
    port: int, requests: list[tuple[str, str]], seconds: float, threads: int, etags: dict[tuple[str, str], str]
) -> tuple[float, list[float], Counter[int]]:
    """Requests per second over `seconds` from `threads` clients cycling through `requests` (a path and the session
    it is sent with, "" for none); each agent keeps the ETag of its last answer, as live.js does."""
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        mine: list[float] = []
        seen: Counter[int] = Counter()
        n = offset
        while time.perf_counter() < stop:
            path, session = requests[n % len(requests)]
            n += threads
            headers = {"Cookie": f"sessionid={session}"} if session else {}
            if (path, session) in etags:
                headers["If-None-Match"] = etags[(path, session)]
            began = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError:  # a timeout on a machine busy elsewhere: counted, not fatal to the round
                seen[0] += 1
                continue
            finally:
                conn.close()
            mine.append(time.perf_counter() - began)
            seen[response.status] += 1
            tag = response.getheader("ETag")
            if tag and session:
                etags[(path, session)] = tag
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
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--per-agent", type=int, default=8)
    parser.add_argument("--background", type=int, default=100_000, help="other appointments' ledger entries")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with throwaway_database("bench_live_poll") as database:
        keys = agents_day(args.agents, args.per_agent, args.background)
        connection.close()
        env = {**database, "DB_CONN_MAX_AGE": "600", "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0"}
        with gunicorn(env, workers=1) as port:
            measure(port, keys, args)


def measure(port: int, keys: list[str], args: argparse.Namespace) -> None:
    """Interleaved rounds of the static file and the live poll; prints the table."""
    polls = [(LIVE, key) for key in keys]
    static_file = [(STATIC, "")]
    etags: dict[tuple[str, str], str] = {}
    load(port, [*polls, *static_file], 3.0, args.threads, etags)  # warm up: connections, ETags, caches
    static_rates, poll_rates = [], []
    static_lat: list[float] = []
    poll_lat: list[float] = []
    poll_codes: Counter[int] = Counter()
    for _ in range(args.rounds):
        rate, lat, _codes = load(port, static_file, args.seconds, args.threads, etags)
        static_rates.append(rate)
        static_lat += lat
        rate, lat, codes = load(port, polls, args.seconds, args.threads, etags)
        poll_rates.append(rate)
        poll_lat += lat
        poll_codes += codes
    static, poll = statistics.median(static_rates), statistics.median(poll_rates)
    interval = settings.LIVE_POLL_SECONDS
    print(f"{len(keys)} agents, {args.per_agent} appointments each today, {args.background} other ledger entries, "
          f"1 gunicorn sync worker, {args.threads} client threads, {args.rounds} interleaved rounds of "
          f"{args.seconds:.0f} s (medians)")  # fmt: skip
    print(f"{'':14} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}")
    for name, rate, lat in (("static file", static, static_lat), ("live poll", poll, poll_lat)):
        print(f"{name:14} {rate:>8.0f} {percentile(lat, 0.5):>7.1f} {percentile(lat, 0.95):>7.1f}")
    print(f"poll / static throughput: {poll / static:.2f}; poll answers: {dict(poll_codes)}")
    print(f"one worker holds about {poll * interval:.0f} agents' open pages polling every {interval} s")


if __name__ == "__main__":
    main()
