"""Flat at a million (issue 26.3): how the API and the back office scale with the number of appointments. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/scale.py \\
        --sizes 1000 100000 1000000

It builds a throwaway database and fills it to each size in SQL (INSERT ... SELECT over generate_series, not the
ORM): appointments over ten departments, so the caller (a member of one) sees a tenth of them, each with its
claimant, two data items, its meeting, two participants (a completed one's claimant waited and was let in) and a
history row; one appointment every 30 seconds back from tomorrow, so a day holds as many at every size from
100,000 on and the table grows by its past. Then, at each size, in-process through Django's test client (no
network), the median of --repeat rounds in which every request runs once, in turn (so a burst of the machine's other
work slows one sample of each, not every sample of one), of each request:
GET one (the baseline, measured in the same run), both lists (first and last page), every filter and sort
docs/integrating.md lists, `q` by name, email and phone (terms of thousands of matches, as many at every size from
100,000: a surname, an email domain, a phone's beginning; the other names and addresses vary), the back office's
Today, This week, All, Needs attention and search, its dashboard, and the export's first byte (and its whole
time, which grows with its rows). It prints each request's time as a ratio to GET one at that size and the
growth from the previous size; then, at the largest size, EXPLAIN ANALYZE of each request's slowest statement;
the worst growth from the second-largest size to the largest is printed last. `--only q= search` times only the
requests so named (and GET one); `--share-terms` adds searches whose matches are a share of the table, labelled.
"""

# The fill is SQL built from this module's constants and the model's columns (no input reaches a statement).
# ruff: noqa: S608

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("API_RATE_LIMIT", "1000000000/min")
# The back office's pages are measured signed in with a password alone (the second factor is not what is timed).
os.environ.setdefault("STAFF_SECOND_FACTOR_REQUIRED", "false")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import api_token_create  # noqa: E402
from appointments.models import Appointment, Department  # noqa: E402
from claimants.models import Claimant, ClaimantData, ClaimantDataField, FieldType  # noqa: E402
from config.admin import CappedCountPaginator  # noqa: E402
from meetings.models import Meeting, Participant  # noqa: E402
from tests.support import throwaway_database  # noqa: E402

DEPARTMENTS = 10  # the caller is a member of the first: it sees a tenth of the appointments
SPACING_SECONDS = 30  # one appointment every 30 seconds back from tomorrow
FIRST = ["Ada", "Alan", "Grace", "Jan", "Maria", "Olu", "Priya", "Sven", "Wei", "Zofia", "Tom", "Nia", "Aisha",
         "Bruno", "Chloe", "Dmitri", "Eilidh", "Farah", "Gareth", "Hana", "Ivan", "Keira", "Luca", "Mei"]  # fmt: skip
# Surnames are two syllables (20 x 20 = 400 of them, Ashford to Westwick), so that a trigram is shared by a few
# hundredths of the names, as in a real list, not by a tenth or all of them.
ONE = ["Ash", "Bram", "Cal", "Dun", "Elm", "Fair", "Gold", "Hart", "Ing", "Kings", "Lang", "Marsh", "North", "Oak",
       "Pen", "Rad", "Stan", "Thorn", "West", "Wood"]  # fmt: skip
TWO = ["ley", "ford", "ton", "wood", "field", "by", "ham", "well", "worth", "stead", "more", "brook", "dale",
       "hurst", "combe", "gate", "ridge", "shaw", "wick", "land"]  # fmt: skip
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com", "btinternet.com", "proton.me",
           "sky.com"]  # fmt: skip
# The searched terms match a fixed number of rows from 100,000 appointments on (issue 26.3: "a prefix of thousands
# of matches"): among the first SEARCHED (the most recent), one in SEARCH_EVERY is named Lovelace, another one has
# an address at HARBOUR; the phones of the first 10,000 begin +44790000. Half of each are the caller's.
SEARCHED = 100_000
SEARCH_EVERY = 25
HARBOUR = "harbourlaw.co.uk"
API = "/api/v1/appointments"
ADMIN = "/admin/appointments/appointment/"


def _array(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join(f"'{value}'" for value in values) + "])"


def _insert_select(model: type[Model], given: dict[str, str], source: str, params: list[Any]) -> None:
    """INSERT INTO the model's table SELECT `given` SQL for the named columns, every other column its default (or
    NULL), FROM `source`: a new column of the model is filled with its default without touching this."""
    quote = connection.ops.quote_name
    columns, values, args = [], [], []
    for field in model._meta.concrete_fields:
        columns.append(quote(field.column))
        if field.attname in given or field.name in given:
            values.append(given.get(field.attname, given.get(field.name, "")))
        elif field.has_default():
            values.append("%s")
            args.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            values.append("NULL")
        else:
            raise AssertionError(f"{model.__name__}.{field.name}: no value, no default")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(values)} {source}",
            [*args, *params],
        )


def _history(model: type[Model], where: str, params: list[Any]) -> None:
    """One history row ('+') per row of `model` matching `where`, copied in one statement."""
    table = model._meta.db_table
    history = table.replace("_", "_historical", 1)
    with connection.cursor() as cursor:
        kept = {c.name for c in connection.introspection.get_table_description(cursor, history)}
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table) if c.name in kept]
        cursor.execute(
            f"INSERT INTO {history} ({', '.join(columns)}, history_date, history_change_reason, history_type, "
            f"history_user_id) SELECT {', '.join(columns)}, now(), NULL, '+', NULL FROM {table} WHERE {where}",
            params,
        )


def fill(departments: list[Department], fields: list[str], tomorrow: datetime, have: int, up_to: int) -> None:
    """Appointments have .. up_to - 1 (n), with their claimants, data, meetings, participants and history."""
    ids = _array([str(d.pk) for d in departments])
    series = "FROM generate_series(%s, %s) AS n"
    span = [have, up_to - 1]
    status = "(ARRAY['completed', 'completed', 'cancelled', 'no_show'])[mod(n, 4) + 1]"
    at = f"('{tomorrow.isoformat()}'::timestamptz - n * interval '{SPACING_SECONDS} seconds')"
    searched = f"n < {SEARCHED}"
    first = f"{_array(FIRST)}[mod(n, {len(FIRST)}) + 1]"
    surname = (
        f"CASE WHEN {searched} AND mod(n, {SEARCH_EVERY}) = 0 THEN 'Lovelace' "
        f"ELSE {_array(ONE)}[mod(n / 3, {len(ONE)}) + 1] || {_array(TWO)}[mod(n / 61, {len(TWO)}) + 1] END"
    )
    _insert_select(
        Appointment,
        {
            "id": "md5('a' || n)::uuid",
            "department_id": f"({ids})[mod(n, {DEPARTMENTS}) + 1]::uuid",
            "reference": "(100000000 + n)::text",
            "appointment_at": at,
            "duration_in_minutes": "30",
            "is_interpreter_needed": "mod(n, 7) = 0",
            "interpreter_language": "CASE WHEN mod(n, 7) = 0 THEN 'Welsh' END",
            "status": f"CASE WHEN {at} > now() THEN 'scheduled' ELSE {status} END",
            "cancelled_at": f"CASE WHEN {at} <= now() AND {status} = 'cancelled' THEN {at} - interval '1 day' END",
            "session_started_at": f"CASE WHEN {at} <= now() AND {status} = 'completed' THEN {at} END",
            "session_ended_at": f"CASE WHEN {at} <= now() AND {status} = 'completed' THEN {at} + interval '25 min' END",
            "public_token": "md5('t' || n)",
            "created_at": f"{at} - interval '7 days'",
            "updated_at": f"{at} - interval '7 days'",
        },
        series,
        span,
    )
    _insert_select(
        Claimant,
        {
            "id": "md5('c' || n)::uuid",
            "appointment_id": "md5('a' || n)::uuid",
            "name": f"{first} || ' ' || {surname}",
            "email": f"lower({first} || '.' || {surname}) || mod(n, 97) || '@' || "
            f"CASE WHEN {searched} AND mod(n, {SEARCH_EVERY}) = 5 THEN '{HARBOUR}' "
            f"ELSE {_array(DOMAINS)}[mod(n / 7, {len(DOMAINS)}) + 1] END",
            "phone_number": "'+4479' || lpad(n::text, 8, '0')",
        },
        series,
        span,
    )
    _insert_select(
        ClaimantData,
        {
            "id": "md5('d' || n || k)::uuid",
            "claimant_id": "md5('c' || n)::uuid",
            "field_id": f"({_array(fields)})[mod(n, {DEPARTMENTS}) * 2 + k + 1]::uuid",
            "value": "'V-' || n",
        },
        series + " CROSS JOIN (VALUES (0), (1)) AS item(k)",
        span,
    )
    _insert_select(
        Meeting,
        {
            "id": "1000000000 + n",
            "appointment_id": "md5('a' || n)::uuid",
            "room_name": "'Appointment ' || (100000000 + n)",
            "room_url": "'https://meet.jit.si/bench' || n",
            "start_date": at,
            "end_date": f"{at} + interval '30 minutes'",
        },
        series,
        span,
    )
    waited = f"role = 'claimant' AND {at} <= now() AND {status} = 'completed'"
    _insert_select(
        Participant,
        {
            "id": "md5('p' || n || role)::uuid",
            "appointment_id": "md5('a' || n)::uuid",
            "role": "role",
            "display_name": "initcap(role)",
            "token": "md5('j' || n || role)",
            "created_at": f"{at} - interval '7 days'",
            # A claimant of a completed appointment waited from up to 8 minutes before its time until let in,
            # up to 3 minutes after it: the dashboard's waits read these.
            "joined_waiting_at": f"CASE WHEN {waited} THEN {at} - mod(n, 9) * interval '1 minute' END",
            "admitted_at": f"CASE WHEN {waited} THEN {at} + mod(n, 4) * interval '1 minute' END",
        },
        series + " CROSS JOIN (VALUES ('agent'), ('claimant')) AS side(role)",
        span,
    )
    references = [str(100_000_000 + have), str(100_000_000 + up_to - 1)]
    _history(Appointment, "reference BETWEEN %s AND %s", references)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a table: statistics and the visibility map
        # The fill's pages written out now, not by a checkpoint while the requests are timed (GET one, which reads
        # the same rows at every size, measured 1.7 times slower just after the million's fill).
        cursor.execute("CHECKPOINT")


def warmed(name: str, call: Callable[[], Any]) -> None:
    """One call before the timing: warms caches and the token's last-use write, and checks the answer."""
    response = call()
    assert response.status_code == 200, (name, response.status_code, getattr(response, "content", b"")[:300])


def timed(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Each call's median over `repeat` rounds, the calls interleaved within a round: a burst of the machine's other
    work (a checkpoint, autovacuum, another process) slows one sample of every request, which the median drops,
    instead of every sample of the one request being timed then."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - began)
    return {name: statistics.median(taken) for name, taken in samples.items()}


def first_byte(client: Client, url: str, params: dict[str, str]) -> Callable[[], Any]:
    """The export, read to its first chunk (a streamed answer): what the person waits for before it starts."""

    def call() -> Any:
        response = client.get(url, params)
        next(iter(response.streaming_content))  # type: ignore[attr-defined]
        response.close()
        return response

    return call


def slowest_statement(call: Callable[[], Any]) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    statements = [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    if not statements:
        return len(captured), ""
    return len(captured), max(statements, key=lambda q: float(q["time"]))["sql"]


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}")
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


def requests(api: Client, admin: Client, one: str, term: dict[str, str], share: bool) -> dict[str, Callable[[], Any]]:
    """Per name, one call; `term` holds search texts found at this size; `share` adds the terms whose matches are
    a share of the table."""
    week = "?show=week"

    def api_get(params: dict[str, str] | None = None) -> Callable[[], Any]:
        return lambda: api.get(API, params or {})

    def last_page(params: dict[str, str]) -> Callable[[], Any]:
        last = api.get(API, params).json()["meta"]["last_page"]
        return lambda: api.get(API, {**params, "page": str(last)})

    def admin_get(params: dict[str, str]) -> Callable[[], Any]:
        return lambda: admin.get(ADMIN, params)

    calls: dict[str, Callable[[], Any]] = {
        "API GET one": lambda: api.get(f"{API}/{one}"),
        "API list, first page": api_get(),
        "API list, last page": last_page({}),
        "API list 100, last page": last_page({"per_page": "100"}),
        "API ?status=scheduled&sort=-appointment_at": api_get({"status": "scheduled", "sort": "-appointment_at"}),
        "API ?status=completed, last page": last_page({"status": "completed"}),
        "API ?status=scheduled,waiting": api_get({"status": "scheduled,waiting"}),
        "API ?department_id": api_get({"department_id": term["department"]}),
        "API ?appointment_at_from&_to (a day)": api_get(
            {"appointment_at_from": term["day_from"], "appointment_at_to": term["day_to"]}
        ),
        "API ?reference": api_get({"reference": term["reference"]}),
        "API ?is_interpreter_needed=true": api_get({"is_interpreter_needed": "true"}),
        "API ?q=name": api_get({"q": term["name"]}),
        "API ?q=email": api_get({"q": term["email"]}),
        "API ?q=phone prefix": api_get({"q": term["phone"]}),
    }
    if share:  # terms whose matches are a share of the table: they grow with it (labelled, not in the worst growth)
        calls["API ?q=first name (share)"] = api_get({"q": term["share_name"]})
        calls["API ?q=email, two characters (share)"] = api_get({"q": term["share_email"]})
    for key in ("appointment_at", "-appointment_at", "created_at", "reference", "-reference", "status",
                "duration_in_minutes"):  # fmt: skip
        calls[f"API ?sort={key}"] = api_get({"sort": key})
    calls.update(
        {
            "admin Today": admin_get({}),
            "admin This week": lambda: admin.get(ADMIN + week),
            "admin All": admin_get({"show": "all"}),
            "admin All, last page": lambda: admin.get(ADMIN, {"show": "all", "p": term["admin_last"]}),
            "admin Needs attention": admin_get({"show": "attention"}),
            "admin search (name)": admin_get({"q": term["name"]}),
            "admin search (email)": admin_get({"q": term["email"]}),
            "admin search (phone prefix)": admin_get({"q": term["phone"]}),
            "admin dashboard": lambda: admin.get(ADMIN + "dashboard/"),
            "export, first byte": first_byte(admin, ADMIN + "export.csv", {"show": "all"}),
        }
    )
    if share:
        calls["admin search (email, two characters) (share)"] = admin_get({"q": term["share_email"]})
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN ANALYZE at the largest size")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="WORD",
        help="time only the requests whose name contains one of the words (GET one, the baseline, always): "
        "`--only q= search` for the searches",
    )
    parser.add_argument(
        "--share-terms",
        action="store_true",
        help="also time searches whose matches are a share of the table (a first name, two characters of an "
        "email), labelled (share) and left out of the worst growth: they grow with the table",
    )
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "bench/scale.py fills with PostgreSQL's generate_series"

    with throwaway_database("bench_scale"):
        departments = [Department.objects.create(name=f"Bench {n}") for n in range(DEPARTMENTS)]
        fields = [
            str(ClaimantDataField.objects.create(department=d, name=name, type=kind, position=k).pk)
            for d in departments
            for k, (name, kind) in enumerate((("Case number", FieldType.STRING), ("Incident date", FieldType.DATE)))
        ]
        agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
        agent.groups.add(*Group.objects.filter(name__in=["Agents", "Department managers"]))
        departments[0].members.add(agent)
        _token, secret = api_token_create(user=agent, expires_in=None)
        admin = Client()
        admin.force_login(agent)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        from django.contrib import admin as site

        per_page = site.site.get_model_admin(Appointment).list_per_page
        tomorrow = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)

        table: dict[str, dict[int, tuple[float, int]]] = {}
        baseline: dict[int, float] = {}
        plans: dict[str, tuple[int, str]] = {}
        have = 0
        print(
            f"database: {connection.vendor}; median of {args.repeat} interleaved rounds; "
            f"the caller sees 1/{DEPARTMENTS}"
        )
        for size in args.sizes:
            started = time.perf_counter()
            fill(departments, fields, tomorrow, have, size)
            have = size
            print(f"filled to {size:,} in {time.perf_counter() - started:.1f} s")
            mine = size // DEPARTMENTS // 2 * DEPARTMENTS  # in the caller's department, half way back
            one = Appointment.objects.get(reference=str(100_000_000 + mine))
            day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
            term = {
                "department": str(departments[0].pk),
                "day_from": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "day_to": (day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reference": one.reference,
                "name": "Lovelace",  # 2,000 of the caller's, 4,000 in all, at every size from 100,000
                "email": "@" + HARBOUR,  # as many, other rows
                "phone": "+44790000",  # the first 10,000 numbers: a thousand of the caller's at every size from 10,000
                "share_name": FIRST[2],  # one name in 24
                "share_email": str(Claimant.objects.get(appointment=one).email)[:2],
                # The admin pages up to its count's cap (config.admin.CappedCountPaginator): its last page.
                "admin_last": str(
                    min(
                        -(-Appointment.objects.filter(department=departments[0]).count() // per_page),
                        CappedCountPaginator.cap // per_page,
                    )
                ),
            }
            calls = {}
            for name, call in requests(api, admin, str(one.pk), term, args.share_terms).items():
                if args.only and name != "API GET one" and not any(word in name for word in args.only):
                    continue
                try:
                    warmed(name, call)
                except AssertionError as failed:  # said, and the run goes on
                    print(f"  {name}: not measured: {failed}")
                    continue
                calls[name] = call
            medians = timed(calls, args.repeat)
            for name, call in calls.items():
                count, sql = slowest_statement(call)
                table.setdefault(name, {})[size] = (medians[name], count)
                print(f"  {size:>9,} {name:<44} {medians[name] * 1000:9.1f} ms [{count}]")
                if size == args.sizes[-1]:
                    plans[name] = (count, sql)
            if not args.only or any(word in "export, whole" for word in args.only):
                whole_started = time.perf_counter()
                exported = b"".join(admin.get(ADMIN + "export.csv", {"show": "all"}).streaming_content)  # type: ignore[attr-defined]
                whole = time.perf_counter() - whole_started
                table.setdefault("export, whole (linear)", {})[size] = (whole, exported.count(b"\n") - 1)
            baseline[size] = table["API GET one"][size][0]

        sizes = args.sizes
        print("\nms (ratio to GET one at that size) [statements]; growth from the size before")
        print(f"  {'request':<44}" + "".join(f"{size:>28,}" for size in sizes))
        growths: list[tuple[float, str]] = []
        for name, by_size in table.items():
            cells = []
            if set(by_size) != set(sizes):
                continue
            for i, size in enumerate(sizes):
                elapsed, count = by_size[size]
                cell = f"{elapsed * 1000:8.1f} ({elapsed / baseline[size]:6.1f}x) [{count}]"
                if i:
                    growth = elapsed / by_size[sizes[i - 1]][0]
                    cell += f" {growth:4.2f}x"
                    if i == len(sizes) - 1 and not name.startswith("export, whole") and "(share)" not in name:
                        growths.append((growth, name))
                cells.append(f"{cell:>28}")
            print(f"  {name:<44}" + "".join(cells))
        if not args.no_explain:
            print(f"\nEXPLAIN ANALYZE of each request's slowest statement at {sizes[-1]:,}:")
            for name, (_count, sql) in plans.items():
                if sql:
                    print(f"  {name}:\n{explain(sql)}")
        if growths:
            worst = max(growths)
            print(f"\nWorst growth from {sizes[-2]:,} to {sizes[-1]:,}: {worst[0]:.2f}x ({worst[1]})")


if __name__ == "__main__":
    main()
