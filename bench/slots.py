"""Free times against one appointment (issue 23, done-when). Run by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/slots.py

It builds a throwaway database: a department (Europe/London) of 20 agents working Monday to Friday 9:00 to 17:00
with 30-minute slots and 10-minute buffers, each with an appointment on every working day of the month, a bank
holiday and one agent's week of leave; then starts gunicorn (1 sync worker) and times, interleaved, GET of one
appointment and GET /api/v1/departments/{id}/slots over 30 days (about 600 free times, with the round robin's
agent each). It prints the medians and their ratio (the target: under 3x).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.services import api_token_create  # noqa: E402
from appointments.availability import BookingRules, HoursException, WorkingHours  # noqa: E402
from appointments.models import Department  # noqa: E402
from appointments.services import appointment_create  # noqa: E402
from tests.support import gunicorn, throwaway_database  # noqa: E402

AGENTS = 20


def free_times_department(*, agents: int, days: int, bank_holiday: int, username: str) -> tuple[Department, Any, str]:
    """A department (Europe/London) of `agents` agents (`username` and their number) working Monday to Friday 9:00
    to 17:00 with 30-minute slots and 10-minute buffers, each with an appointment on every working day of the `days`
    from tomorrow, a bank holiday `bank_holiday` days on and the first agent's week of leave (bench/floor.py's free
    times are this, smaller). Returns the department, its first appointment and the free times' query over the
    `days`."""
    department = Department.objects.create(name="Bench free times", time_zone="Europe/London")
    BookingRules.objects.create(
        department=department, slot_minutes=30, buffer_before_minutes=10, buffer_after_minutes=10, horizon_days=90
    )
    users = get_user_model()
    staff = [users.objects.create_user(f"{username}{n}", is_staff=True) for n in range(agents)]
    department.members.add(*staff)
    WorkingHours.objects.bulk_create(
        WorkingHours(department=department, agent=agent, weekday=day, starts_at=clock(9), ends_at=clock(17))
        for agent in staff
        for day in range(5)
    )
    start = (datetime.now(UTC) + timedelta(days=1)).date()
    HoursException.objects.create(department=department, day=start + timedelta(days=bank_holiday), note="Bank holiday")
    for offset in range(7):
        HoursException.objects.create(department=department, agent=staff[0], day=start + timedelta(days=offset))
    first = None
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day.weekday() > 4:
            continue
        for index, agent in enumerate(staff):
            at = datetime.combine(day, clock(9 + index % 8), tzinfo=UTC)
            created = appointment_create(
                department=department,
                appointment_at=at,
                duration_in_minutes=45,
                claimant={"name": f"Claimant {offset}-{index}"},
                actor=None,
                agent_id=agent.pk,
            )
            first = first or created
    window = f"from={start:%Y-%m-%d}T00:00:00Z&to={start + timedelta(days=days):%Y-%m-%d}T00:00:00Z"
    return department, first, window


def build() -> tuple[str, str, str]:
    department, first, window = free_times_department(agents=AGENTS, days=30, bank_holiday=10, username="agent")
    reader = get_user_model().objects.create_user("reader")
    department.members.add(reader)
    _row, token = api_token_create(user=reader, expires_in=None)
    assert first is not None
    return token, f"/api/v1/appointments/{first.pk}", f"/api/v1/departments/{department.pk}/slots?{window}"


def timed(port: int, path: str, token: str) -> tuple[float, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    began = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - began
    assert response.status == 200, body[:300]
    return elapsed, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    with throwaway_database("bench_slots") as database:
        token, one, slots = build()
        connection.close()
        env = {**database, "API_RATE_LIMIT": "1000000/min", "ALLOWED_HOSTS": "127.0.0.1"}
        with gunicorn(env, workers=1) as port:
            for _ in range(5):  # warm up both
                timed(port, one, token)
                _elapsed, body = timed(port, slots, token)
            found = json.loads(body)["data"]
            times: dict[str, list[float]] = {"one": [], "slots": []}
            for _ in range(args.requests):
                times["one"].append(timed(port, one, token)[0])
                times["slots"].append(timed(port, slots, token)[0])
    baseline, measured = statistics.median(times["one"]), statistics.median(times["slots"])
    print(f"gunicorn 1 sync worker, {args.requests} requests each, interleaved; medians")
    print(f"GET one appointment                       {baseline * 1000:7.2f} ms")
    print(f"GET slots, 30 days, {AGENTS} agents ({len(found)} times) {measured * 1000:7.2f} ms")
    print(f"ratio                                     {measured / baseline:7.2f}x (target under 3x)")


if __name__ == "__main__":
    main()
