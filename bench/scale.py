"""How the back office and the API scale with the number of appointments. Run by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/scale.py [--sizes 1000 100000]

It builds a throwaway test database, fills it to each size, and times (median of --repeat runs, in-process
through Django's test client, so no network) the admin changelist and the API list against baselines measured
in the same run at the same size: the admin index page and a GET of one appointment. It reports the ratios,
the query counts and the peak Python memory of a 100-row API page. Ratios that stay flat from the smallest to
the largest size mean the page does not grow with the table.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own, shared with the servers it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("API_RATE_LIMIT", "1000000/min")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import api_token_create  # noqa: E402
from appointments.models import Appointment, Department  # noqa: E402
from claimants.models import Claimant, ClaimantData, ClaimantDataField, FieldType  # noqa: E402
from meetings.models import Meeting  # noqa: E402
from tests.support import throwaway_database  # noqa: E402

BATCH = 5000
FIRST = ["Ada", "Alan", "Grace", "Jan", "Maria", "Olu", "Priya", "Sven", "Wei", "Zofia", "Tom", "Nia"]
LAST = ["Lovelace", "Turing", "Hopper", "Kowalski", "Garcia", "Adeyemi", "Patel", "Larsen", "Chen", "Nowak"]


def email_of(n: int) -> str:
    return f"{hashlib.sha256(str(n).encode()).hexdigest()[:12]}@example.com"


def fill(department: Department, fields: list[ClaimantDataField], up_to: int) -> None:
    """Bulk rows straight into the tables: a benchmark's data, not a path a user can take."""
    have = Appointment.objects.count()
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    while have < up_to:
        size = min(BATCH, up_to - have)
        appointments = [
            Appointment(
                department=department,
                reference=f"{100_000_000 + have + n}",
                appointment_at=start + timedelta(minutes=30 * (have + n)),
                duration_in_minutes=30,
            )
            for n in range(size)
        ]
        Appointment.objects.bulk_create(appointments, batch_size=BATCH)
        claimants = [
            Claimant(
                appointment=a,
                name=f"{FIRST[(have + n) % len(FIRST)]} {LAST[(have + n) // len(FIRST) % len(LAST)]}",
                email=email_of(have + n),
                phone_number=f"+4479{(have + n):08d}",
            )
            for n, a in enumerate(appointments)
        ]
        Claimant.objects.bulk_create(claimants, batch_size=BATCH)
        ClaimantData.objects.bulk_create(
            [ClaimantData(claimant=c, field=f, value="x") for c in claimants for f in fields], batch_size=BATCH
        )
        Meeting.objects.bulk_create(
            [
                Meeting(
                    id=1_000_000_000 + have + n,
                    appointment=a,
                    room_name=f"Appointment {a.reference}",
                    room_url=f"https://meet.jit.si/bench{have + n}",
                    start_date=a.appointment_at,
                    end_date=a.appointment_at + timedelta(minutes=30),
                )
                for n, a in enumerate(appointments)
            ],
            batch_size=BATCH,
        )
        have += size
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")


def timed(call: Callable[[], object], repeat: int) -> float:
    call()  # warm caches and the token's last-use write
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def queries(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    with throwaway_database("bench_appointments"):
        department = Department.objects.create(name="Bench")
        fields = [
            ClaimantDataField.objects.create(department=department, name="Case number", type=FieldType.STRING),
            ClaimantDataField.objects.create(department=department, name="Incident date", type=FieldType.DATE),
        ]
        agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
        agent.groups.add(Group.objects.get(name="Agents"))
        department.members.add(agent)
        _token, secret = api_token_create(user=agent, expires_in=None)
        admin = Client()
        admin.force_login(agent)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

        print(f"database: {connection.vendor}; median of {args.repeat} runs each; times in ms")
        header = (
            f"{'rows':>8} {'admin index':>11} {'day view':>10} {'ratio':>6} {'search':>7} {'ratio':>6} "
            f"{'API one':>8} {'API list':>8} {'ratio':>6} {'list 100':>8} {'ratio':>6} "
            f"{'queries cl/list':>15} {'peak KiB list 100':>17} {'export':>8} {'ratio':>7} {'rows/s':>8}"
        )
        print(header)
        for size in args.sizes:
            fill(department, fields, size)
            one = Appointment.objects.order_by("appointment_at")[size // 2]
            index = timed(lambda: admin.get("/admin/"), args.repeat)
            changelist = timed(lambda: admin.get("/admin/appointments/appointment/"), args.repeat)
            # One claimant's email fragment: what a person pastes to find one appointment.
            term = email_of(size // 2)[:10]
            search = timed(lambda term=term: admin.get("/admin/appointments/appointment/", {"q": term}), args.repeat)
            single = timed(lambda one=one: api.get(f"/api/v1/appointments/{one.pk}"), args.repeat)
            listed = timed(lambda: api.get("/api/v1/appointments"), args.repeat)
            listed_100 = timed(lambda: api.get("/api/v1/appointments", {"per_page": 100}), args.repeat)
            changelist_queries = queries(lambda: admin.get("/admin/appointments/appointment/"))
            list_queries = queries(lambda: api.get("/api/v1/appointments", {"per_page": 100}))
            tracemalloc.start()
            api.get("/api/v1/appointments", {"per_page": 100})
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            # The whole table as CSV, streamed and read to the end (once per size: it is the long one).
            started = time.perf_counter()
            exported = b"".join(admin.get("/admin/appointments/appointment/export.csv", {"show": "all"}))
            export = time.perf_counter() - started
            exported_rows = exported.count(b"\n") - 1
            print(
                f"{size:>8} {index * 1000:>11.1f} {changelist * 1000:>10.1f} {changelist / index:>6.2f} "
                f"{search * 1000:>7.1f} {search / index:>6.2f} {single * 1000:>8.1f} {listed * 1000:>8.1f} "
                f"{listed / single:>6.2f} {listed_100 * 1000:>8.1f} {listed_100 / single:>6.2f} "
                f"{f'{changelist_queries}/{list_queries}':>15} {peak / 1024:>17.0f} "
                f"{export * 1000:>8.0f} {export / index:>7.0f} {exported_rows / export:>8.0f}"
            )


if __name__ == "__main__":
    main()
