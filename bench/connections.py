"""Database connections per request: new each time, persistent, or psycopg's pool. Run by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/connections.py

It builds a throwaway database with one appointment and a token, then for each setting starts gunicorn (2 sync
workers) and drives GET /api/v1/appointments/{id} over HTTP from client threads, the settings interleaved over
several rounds (medians). It prints requests per second for each and the ratio to new-connection-per-request.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own, shared with the servers it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.db import connection  # noqa: E402

from accounts.services import api_token_create  # noqa: E402
from appointments.models import Appointment, Department  # noqa: E402
from bench.scale import fill  # noqa: E402
from claimants.models import ClaimantDataField, FieldType  # noqa: E402
from tests.support import gunicorn, throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {
    "new connection (DB_CONN_MAX_AGE=0)": {"DB_CONN_MAX_AGE": "0"},
    "persistent (DB_CONN_MAX_AGE=600)": {"DB_CONN_MAX_AGE": "600"},
    "psycopg pool (DB_POOL=1)": {"DB_POOL": "1"},
}


def rate(port: int, path: str, token: str, seconds: float, threads: int) -> float:
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def client(index: int) -> None:
        while time.perf_counter() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            conn.close()
            assert response.status == 200, response.status
            done[index] += 1

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=6)
    args = parser.parse_args()
    with throwaway_database("bench_connections") as database:
        department = Department.objects.create(name="Bench")
        field = ClaimantDataField.objects.create(department=department, name="Case number", type=FieldType.STRING)
        fill(department, [field], 10)
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("bench")
        department.members.add(user)
        _row, token = api_token_create(user=user, expires_in=None)
        path = f"/api/v1/appointments/{Appointment.objects.first().pk}"  # type: ignore[union-attr]
        connection.close()
        base = {
            **database,
            "API_RATE_LIMIT": "1000000/min",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        rates: dict[str, list[float]] = {name: [] for name in SETTINGS}
        for _ in range(args.rounds):
            for name, env in SETTINGS.items():
                with gunicorn({**base, **env}, workers=2) as port:
                    rate(port, path, token, 1.0, args.threads)  # warm up
                    rates[name].append(rate(port, path, token, args.seconds, args.threads))
        baseline = statistics.median(rates[next(iter(SETTINGS))])
        print(f"GET one appointment, gunicorn 2 sync workers, {args.threads} client threads, medians of {args.rounds}")
        for name, values in rates.items():
            median = statistics.median(values)
            print(f"{name:38} {median:>7.0f} req/s  {median / baseline:>5.2f}x")


if __name__ == "__main__":
    main()
