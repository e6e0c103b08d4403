"""Writes under load while PostgreSQL restarts: is any acknowledged write lost, any answer not JSON, any error
given after a committed write? Run by hand, as root on a machine whose local PostgreSQL it may restart:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/restart.py

It builds a throwaway database, starts gunicorn (2 sync workers), and runs client threads for --seconds: each
thread owns one appointment and PATCHes its claimant's name to an increasing counter, and creates appointments
with references of its own. Midway it restarts PostgreSQL (--restart). Then it prints the acknowledged writes,
those found in the database, answers by status code, answers that were not JSON, and the time from the restart
to the first success after it. The bar: 0 lost acknowledged writes, 0 non-JSON answers, and for every
appointment the stored name is the last acknowledged one (an error answer never hid a committed write).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
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
from claimants.models import Claimant, ClaimantDataField, FieldType  # noqa: E402
from tests.support import gunicorn, throwaway_database  # noqa: E402

RESTART = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart"


def request(port: int, method: str, path: str, token: str, body: dict) -> tuple[int, bool, dict | None]:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        conn.request(
            method, path, json.dumps(body), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        raw = response.read()
        conn.close()
    except OSError:
        return 0, True, None  # no answer at all (not counted as a non-JSON answer)
    try:
        return response.status, True, json.loads(raw)
    except ValueError:
        return response.status, False, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--restart", default=RESTART, help="the shell command that restarts PostgreSQL")
    args = parser.parse_args()
    with throwaway_database("bench_restart") as database:
        department = Department.objects.create(name="Bench")
        field = ClaimantDataField.objects.create(department=department, name="Case number", type=FieldType.STRING)
        fill(department, [field], args.threads)
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("bench")
        department.members.add(user)
        _row, token = api_token_create(user=user, expires_in=None)
        owned = [str(pk) for pk in Appointment.objects.order_by("reference").values_list("pk", flat=True)]
        connection.close()
        env = {
            **database,
            "API_RATE_LIMIT": "1000000/min",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        codes: Counter[int] = Counter()
        not_json = 0
        acked_names: dict[str, int] = {}
        acked_refs: set[str] = set()
        refused_refs: set[str] = set()
        successes: list[float] = []
        failures: list[float] = []
        lock = threading.Lock()
        restarted_at: list[float] = []
        with gunicorn(env, workers=2) as port:
            stop = time.perf_counter() + args.seconds

            def client(index: int) -> None:
                nonlocal not_json
                n = 0
                while time.perf_counter() < stop:
                    n += 1
                    pk = owned[index]
                    status, is_json, _ = request(
                        port, "PATCH", f"/api/v1/appointments/{pk}", token, {"claimant": {"name": f"N {n}"}}
                    )
                    reference = f"R{index}-{n}"
                    body = {"appointment_at": "2031-01-01T09:00:00Z", "duration_in_minutes": 30, "reference": reference,
                            "claimant": {"name": "C", "data": {"Case number": "1"}}}  # fmt: skip
                    created, created_json, _ = request(port, "POST", "/api/v1/appointments", token, body)
                    with lock:
                        codes[status] += 1
                        codes[created] += 1
                        not_json += (not is_json) + (not created_json)
                        if status == 200:
                            acked_names[pk] = n
                            successes.append(time.perf_counter())
                        if created == 201:
                            acked_refs.add(reference)
                        elif created >= 500 or created == 0:
                            refused_refs.add(reference)
                            failures.append(time.perf_counter())
                        if status >= 500 or status == 0:
                            failures.append(time.perf_counter())

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.threads)]
            for thread in threads:
                thread.start()
            time.sleep(args.seconds / 3)
            restarted_at.append(time.perf_counter())
            subprocess.run(args.restart, shell=True, check=True)  # noqa: S602 (the operator's own command)
            for thread in threads:
                thread.join()
        connection.connect()
        found_refs = set(Appointment.objects.filter(reference__in=acked_refs).values_list("reference", flat=True))
        committed_anyway = Appointment.objects.filter(reference__in=refused_refs).count()
        names = dict(Claimant.objects.filter(appointment_id__in=owned).values_list("appointment_id", "name"))
        mismatched = [pk for pk, n in acked_names.items() if names[next(k for k in names if str(k) == pk)] != f"N {n}"]
        last_failure = max(failures, default=restarted_at[0])
        recovered = [t for t in successes if t > last_failure]
        print(f"{args.threads} threads for {args.seconds:.0f} s, PostgreSQL restarted after {args.seconds / 3:.0f} s")
        lost = len(acked_refs - found_refs)
        print(f"acknowledged creates: {len(acked_refs)}, found: {len(found_refs)}, lost: {lost}")
        print(f"creates answered with an error that were committed anyway: {committed_anyway}")
        print(f"appointments whose stored name is not the last acknowledged one: {len(mismatched)}")
        print(f"answers by status: {dict(sorted(codes.items()))} (0 = no answer)")
        print(f"answers that were not JSON: {not_json}")
        if failures and recovered:
            began, ended, back = (t - restarted_at[0] for t in (min(failures), last_failure, recovered[0]))
            print(f"errors from {began:.2f} s to {ended:.2f} s after the restart began; success again at {back:.2f} s")
        elif not failures:
            print("no request failed")
        else:
            print("no success after the last error")


if __name__ == "__main__":
    main()
