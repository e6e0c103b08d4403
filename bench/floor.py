"""The floor: each API endpoint against the same work written by hand, in one run. By hand, on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/floor.py

The floor views below do what the API does for the benchmark's requests with hand-written SQL and no
framework but Django's request handling: the same Bearer lookup (knox's digest, last use at most once a
minute), a per-minute request counter (one cache operation a request), tenancy, the same validation (phonenumbers
included), only the changed columns, one history row per changed record, the outbox's events and their task (one
INSERT of the row the task library writes), the ledger's entries (its hash chain's head read after the lock, the
entries hashed and inserted in one statement), the ETag and `If-None-Match`, through the same middleware; a write
answers from what it wrote (no read-back). They are registered only here (this module is the URL configuration of
the run, the API's URLs included), so the service never serves them.

Two floors send the same statements (issue 26.1): the lean one (/floor) one statement a round trip in
`transaction.atomic()`, as the API does; the pipelined one (/floor-rt) in the fewest round trips, with psycopg's
pipeline mode: a read is the Bearer lookup, then its statement(s) (a list's count and page together); a write is
the Bearer lookup, then BEGIN with the read it locks or checks, then every write, the outbox and COMMIT at once.
The API is measured against the lean one; the pipelined one shows what the round trips cost.

1. Proof: for each endpoint each floor and the API answer byte for byte the same body and ETag (a GET, a list
   of 15 and of 100, filtered and sorted, with every documented filter but `q` and `reference`, an appointment's
   participants, its events (the ledger), a department's free times over 14 days, the claimant's status poll
   (its heartbeat written when due, not before); a PATCH of time, duration,
   phone and one data value, the same as POST `_method=PATCH` with a form, a cancel and a guest's invitation,
   each applied to the same appointment and rolled back; a create), a write's generated values (ids, tokens, its
   time) mapped before comparing, and write the same rows (every table the change touches and the task's row,
   generated and time-stamped columns aside). It stops if any differ. Free times are hand-read (five statements)
   and worked out with the API's own arithmetic (appointments.free_times, plain Python) and text writer.
2. In-process: Django's test client, API and both floors interleaved request by request (the order rotated each
   round), medians; statements per request of each; the ratio API / floor per endpoint.
3. Over HTTP: all three served by one gunicorn (sync workers), the same requests interleaved from one client,
   medians; then PATCH throughput with `wrk` (Debian's package `wrk`), 2 threads and 8 connections, for the API
   and each floor, PATCHes spread over 200 appointments. The worst ratio to the lean floor is printed last.

It builds and drops its own database.
"""

# The floor is SQL written by hand, built from constants of this module (no input reaches a statement's text).
# ruff: noqa: S608

from __future__ import annotations

import argparse
import difflib
import hashlib
import hmac
import http.client
import json
import os
import pprint
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own, shared with the servers it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django  # noqa: E402

django.setup()

import phonenumbers  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402
from django.utils.cache import patch_vary_headers  # noqa: E402
from django.utils.dateparse import parse_datetime  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django_guid import get_guid  # noqa: E402
from django_tasks_db.models import get_date_max  # noqa: E402
from knox.crypto import hash_token  # noqa: E402
from knox.settings import CONSTANTS  # noqa: E402

from appointments import shape  # noqa: E402
from appointments.models import FEATURE_FIELDS  # noqa: E402
from appointments.selectors import COLUMNS  # noqa: E402 (the shape's columns, then the claimant's id)
from config.api.fields import milliseconds, seconds  # noqa: E402 (the contract's two time formats, for the PATCH)
from config.cursors import _server_cursor  # noqa: E402 (the cursor PostgreSQL prepares on: the API's poll uses it)
from events.tasks import events_dispatch  # noqa: E402
from ledger.chain import GENESIS, canonical, entry_hash  # noqa: E402 (the canonical form, not the writing)
from meetings.browsers import Browser, browser_digest  # noqa: E402 (the cookie's digest, as the page's)
from meetings.page_language import request_language  # noqa: E402 (the page's language: the guard says it)
from meetings.services.pages import PageState, heartbeat_every, page_state  # noqa: E402 (the state's rules: Python)
from meetings.video import video_origin  # noqa: E402 (the CSP's one addition on the claimant's pages)
from meetings.views import _TOKEN, _browser_key  # noqa: E402 (the link's form and the cookie's key, as the page reads them)

API_PATH = "/api/v1/appointments"
RATE_PER_MINUTE = 10**9  # the benchmark measures work, not the limit (the API's limit is raised to match)
settings.PUBLIC_PAGE_RATE_PER_MINUTE = RATE_PER_MINUTE  # and the public pages' (the servers' by their environment)

# --- the floor views ------------------------------------------------------------------------------------------

# The representation's columns (appointments.shape, by name), each with its table's alias; then the claimant's data
# items as JSON objects shown as the API shows them.
_ALIASES = {"": "a", "department": "d", "claimant": "c", "meeting": "m", "field": "f"}


def _sql(path: str, base: str = "a") -> str:
    relation, _, column = path.rpartition("__")
    return f"{_ALIASES[relation] if relation else base}.{column}"


_ITEM_PAIRS = zip(shape.ITEM_KEYS, shape.ITEM_COLUMNS, strict=True)
_ITEMS = ", ".join(f"'{key}', {_sql(path, 'cd')}" for key, path in _ITEM_PAIRS)
_COLUMNS = (
    ", ".join(_sql(path) for path in COLUMNS)
    + f", (SELECT json_agg(json_build_object({_ITEMS}) ORDER BY f.position, f.name)"
    " FROM claimants_claimantdata cd JOIN claimants_claimantdatafield f ON f.id = cd.field_id"
    " WHERE cd.claimant_id = c.id)"
)
_CLAIMANT_ID, _DEPARTMENT_ID = COLUMNS.index("claimant__id"), COLUMNS.index("department_id")
_FROM = (
    "FROM appointments_appointment a JOIN appointments_department d ON d.id = a.department_id "
    "JOIN claimants_claimant c ON c.appointment_id = a.id JOIN meetings_meeting m ON m.appointment_id = a.id "
)
_TENANCY = "(%s OR a.department_id IN (SELECT department_id FROM appointments_department_members WHERE user_id = %s))"
_ONE = f"SELECT {_COLUMNS} {_FROM} WHERE a.id = %s AND {_TENANCY}"


def _representation(row: tuple[Any, ...]) -> dict[str, Any]:
    """The API's builder over the row (plain Python, no framework): the floor cannot drift from the shape."""
    return cast(dict[str, Any], shape.build(row, row[-1] or []))


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _answer(data: dict[str, Any], status: int = 200, request: HttpRequest | None = None) -> HttpResponse:
    text = _text(data)
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
    if request is not None and request.META.get("HTTP_IF_NONE_MATCH") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    body = ('{"data":' + text + "}").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(body.encode(), status=status, content_type="application/json", headers={"ETag": etag})


def _error(status: int, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    body = {"message": "The given data was invalid.", "errors": errors} if errors else {"message": "Error."}
    return HttpResponse(_text(body), status=status, content_type="application/json")


def _caller(request: HttpRequest, cursor: Any) -> tuple[int, bool] | None:
    """The Bearer token's user and whether a superuser: one statement (and the last-use write once a minute)."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > 128 or not token.isascii():
        return None
    cursor.execute(
        "SELECT t.digest, t.user_id, t.expiry, t.revoked_at, t.last_used_at, u.is_active, u.is_superuser, "
        "u.first_name, u.last_name, u.username "
        "FROM accounts_apitoken t JOIN auth_user u ON u.id = t.user_id WHERE t.token_key = %s",
        [token[: CONSTANTS.TOKEN_KEY_LENGTH]],
    )
    digest, now = hash_token(token), datetime.now(UTC)
    for found, user_id, expiry, revoked, last_used, active, superuser, *names in cursor.fetchall():
        if not hmac.compare_digest(found, digest):
            continue
        if revoked is not None or (expiry is not None and expiry <= now) or not active:
            return None
        if last_used is None or now - last_used > timedelta(minutes=1):
            cursor.execute("UPDATE accounts_apitoken SET last_used_at = %s WHERE digest = %s", [now, found])
        _ACTOR_NAMES[user_id] = f"{names[0]} {names[1]}".strip() or names[2]  # the ledger's actor, as the API names it
        return user_id, superuser
    return None


_ACTOR_NAMES: dict[int, str] = {}


def _within_rate(user_id: int) -> bool:
    """One cache operation a request (a window's first hit: two), as the API's counter."""
    key = f"floor-rate:{user_id}:{int(time.time() // 60)}"
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first hit
        count = 1 if cache.add(key, 1, 120) else cache.incr(key)
    return count <= RATE_PER_MINUTE


class _Unit:
    """A change's transaction, sent two ways with the same statements. Lean: one statement a round trip, in
    `transaction.atomic()`. Pipelined (the fewest round trips, psycopg's pipeline mode): BEGIN travels with the
    first read, and the writes with the COMMIT; inside a transaction already (the proof's rollback), a savepoint
    stands for BEGIN and COMMIT."""

    def __init__(self, cursor: Any, pipelined: bool) -> None:
        self.cursor, self.pipelined, self.committed = cursor, pipelined, False
        nested = connection.in_atomic_block
        self.begin, self.commit_sql, self.rollback_sql = (
            ("SAVEPOINT floor", "RELEASE SAVEPOINT floor", "ROLLBACK TO SAVEPOINT floor")
            if nested
            else ("BEGIN", "COMMIT", "ROLLBACK")
        )

    def __enter__(self) -> _Unit:
        if not self.pipelined:
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            return self
        for table in _TRACKED:  # the history's columns, read once per process, before any pipeline
            _table_columns(table)
        connection.ensure_connection()
        self.pipeline = connection.connection.pipeline()
        self.pipeline.__enter__()
        self.cursor.execute(self.begin)
        return self

    def commit(self) -> None:
        """The last statement of the unit: queued with the writes (pipelined), or the atomic block's end."""
        if self.pipelined:
            self.cursor.execute(self.commit_sql)
        self.committed = True

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if not self.pipelined:
            self.atomic.__exit__(kind, error, trace)
            return
        if kind is not None:  # a statement failed (raised at its result or at a sync) or the code did
            self.pipeline.__exit__(kind, error, trace)
            self.cursor.execute(self.rollback_sql)
            return
        if not self.committed:  # refused after the read: nothing was written
            self.cursor.execute(self.rollback_sql)
        try:
            self.pipeline.__exit__(None, None, None)  # the sync: the writes and the COMMIT in one round trip
        except Exception:
            self.cursor.execute(self.rollback_sql)
            raise


def _authorised(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt  # a Bearer API, as DRF's views are
    def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        with connection.cursor() as cursor:
            caller = _caller(request, cursor)
            if caller is None:
                return _error(401)
            if not _within_rate(caller[0]):
                return _error(429)
            return view(request, cursor, caller, **kwargs)

    return wrapped


@_authorised
def floor_appointment(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pk: str, pipelined: bool = False
) -> HttpResponse:
    try:
        appointment_id = uuid.UUID(pk)
    except ValueError:
        return _error(404)
    user_id, superuser = caller
    if request.method == "GET":
        cursor.execute(_ONE, [appointment_id, superuser, user_id])
        row = cursor.fetchone()
        return _answer(_representation(row), request=request) if row else _error(404)
    if request.method == "PATCH":
        return _patch(request, cursor, caller, appointment_id, pipelined, _json_body)
    if request.method == "POST" and _override(request) == "PATCH":  # the original's workaround, with a form body
        return _patch(request, cursor, caller, appointment_id, pipelined, _form_body)
    return _error(405)


def _override(request: HttpRequest) -> str:
    """Laravel's method override, as the API reads it: the query, a form field or the header."""
    given = request.GET.get("_method") or request.META.get("HTTP_X_HTTP_METHOD_OVERRIDE")
    if given is None and request.content_type == "application/x-www-form-urlencoded":
        given = request.POST.get("_method")
    return (given or "").upper()


def _json_body(request: HttpRequest) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(request.body))


_BRACKETS = re.compile(r"[^\[\]]+")


def _form_body(request: HttpRequest) -> dict[str, Any]:
    """A PHP form's bracket keys (`claimant[data][0][id]`) nested, its lists' indexes as lists, `""` as null, the
    duration's digits as a number (what the API's form parser and fields make of them, for the benchmark's keys)."""
    body: dict[str, Any] = {}
    for key, value in request.POST.items():
        *parents, last = _BRACKETS.findall(key)
        node = body
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = None if value == "" else value
    body.pop("_method", None)
    claimant = body.get("claimant", {})
    if isinstance(claimant.get("data"), dict):
        claimant["data"] = [claimant["data"][index] for index in sorted(claimant["data"], key=int)]
    if isinstance(body.get("duration_in_minutes"), str) and body["duration_in_minutes"].isdigit():
        body["duration_in_minutes"] = int(body["duration_in_minutes"])
    return body


@_authorised
def floor_appointments(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pipelined: bool = False
) -> HttpResponse:
    if request.method == "POST":
        return _create(request, cursor, caller, pipelined)
    user_id, superuser = caller
    per_page, page = _page_of(request)
    try:
        where, where_args, order, tallied = _list_filters(request.GET)
    except (ValueError, KeyError):
        return _error(422, {"query": ["invalid"]})
    count_sql = f"SELECT count(*) FROM appointments_appointment a WHERE {_TENANCY}{where}"
    if tallied:  # the appointments' counts kept per department and status (AppointmentTally), as the API reads them
        tally = "SELECT CAST(COALESCE(SUM(a.count), 0) AS bigint) FROM appointments_appointmenttally a"
        count_sql = f"{tally} WHERE {_TENANCY}{where}"
    rows_sql = f"SELECT {_COLUMNS} {_FROM} WHERE {_TENANCY}{where} ORDER BY {order} LIMIT %s OFFSET %s"
    count_args = [superuser, user_id, *where_args]
    rows_args = [*count_args, per_page, (page - 1) * per_page]
    if pipelined:  # both statements in one round trip
        with connection.connection.pipeline(), connection.cursor() as counter:
            counter.execute(count_sql, count_args)
            cursor.execute(rows_sql, rows_args)
            total = counter.fetchone()[0]
            rows = cursor.fetchall()
    else:
        cursor.execute(count_sql, count_args)
        total = cursor.fetchone()[0]
        cursor.execute(rows_sql, rows_args)
        rows = cursor.fetchall()
    body = _paginated(request, [_representation(row) for row in rows], total, page, per_page, API_PATH)
    return HttpResponse(_text(body).encode(), content_type="application/json")


def _paginated(
    request: HttpRequest, data: list[Any], total: int, page: int, per_page: int, path: str
) -> dict[str, Any]:
    """Laravel's paginator envelope, as config.api.pagination writes it."""
    last = max(1, -(-total // per_page))
    base = request.build_absolute_uri(path)

    def url(number: int | None) -> str | None:
        if number is None:
            return None
        query = request.GET.copy()
        query["page"] = str(number)
        return f"{base}?{query.urlencode()}"

    previous, following = (page - 1 if page > 1 else None), (page + 1 if page < last else None)
    links: list[dict[str, Any]] = [{"url": url(previous), "label": "&laquo; Previous", "active": False}]
    shown_pages, before = sorted({1, last, *range(max(1, page - 3), min(last, page + 3) + 1)}), 0
    for number in shown_pages:
        if number - before > 1:
            links.append({"url": None, "label": "...", "active": False})
        links.append({"url": url(number), "label": str(number), "active": number == page})
        before = number
    links.append({"url": url(following), "label": "Next &raquo;", "active": False})
    first = (page - 1) * per_page + 1
    body = {
        "data": data,
        "links": {"first": url(1), "last": url(last), "prev": url(previous), "next": url(following)},
        "meta": {
            "current_page": page,
            "from": first if data else None,
            "last_page": last,
            "links": links,
            "path": base,
            "per_page": per_page,
            "to": first + len(data) - 1 if data else None,
            "total": total,
        },
    }
    return body


_SORTABLE = ("appointment_at", "created_at", "reference", "status", "duration_in_minutes")
_STATUSES = ("scheduled", "waiting", "in_progress", "completed", "cancelled", "no_show")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _list_filters(query: Any) -> tuple[str, list[Any], str, bool]:
    """The documented filters (docs/integrating.md) but `q`: the SQL to AND to the tenancy, its arguments, the order
    (each sort key, then the id), and whether the filters are only the status and the department (the tally's
    columns, so the total is the tally's). A value the API would refuse raises ValueError."""
    where: list[str] = []
    args: list[Any] = []
    statuses = [part.strip() for value in (*query.getlist("status"), *query.getlist("status[]"))
                for part in value.split(",") if part.strip()]  # fmt: skip
    if statuses:
        if any(status not in _STATUSES for status in statuses):
            raise ValueError
        where.append("a.status = ANY(%s)")
        args.append(statuses)
    for name, sql, read in (
        ("department_id", "a.department_id = %s", uuid.UUID),
        ("appointment_at_from", "a.appointment_at >= %s", _moment),
        ("appointment_at_to", "a.appointment_at <= %s", _moment),
        ("reference", "a.reference = %s", str),
        ("is_interpreter_needed", "a.is_interpreter_needed = %s", _BOOLEANS.__getitem__),
    ):
        if query.get(name):
            where.append(sql)
            args.append(read(query[name]))
    keys = []
    for key in (part.strip() for part in query.get("sort", "").split(",") if part.strip()):
        if key.lstrip("-") not in _SORTABLE:
            raise ValueError
        keys.append(f"a.{key.lstrip('-')}{' DESC' if key.startswith('-') else ''}")
    order = ", ".join([*keys, "a.id"]) if keys else "a.appointment_at, a.id"
    tallied = all(part.startswith(("a.status ", "a.department_id ")) for part in where)
    return "".join(f" AND {part}" for part in where), args, order, tallied


def _page_of(request: HttpRequest) -> tuple[int, int]:
    def positive(raw: str | None, default: int) -> int:
        return int(raw) if raw is not None and raw.isdigit() and int(raw) >= 1 else default

    return min(positive(request.GET.get("per_page"), 15), 100), positive(request.GET.get("page"), 1)


_VISIBLE = f"SELECT 1 FROM appointments_appointment a WHERE a.id = %s AND {_TENANCY}"
_ENTRY = (  # an entry's columns, its actor's name from its personal values
    "id, sequence, type, occurred_at, actor_type, actor_id, personal -> 'values' ->> 'actor_name', channel, data, hash"
)


@_authorised
def floor_events(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pk: str, pipelined: bool = False
) -> HttpResponse:
    """The appointment's ledger, oldest first, paginated, with its ETag (no filter: what the benchmark sends)."""
    try:
        appointment_id = uuid.UUID(pk)
    except ValueError:
        return _error(404)
    user_id, superuser = caller
    per_page, page = _page_of(request)
    statements = (
        (_VISIBLE, [appointment_id, superuser, user_id]),
        ("SELECT count(*) FROM ledger_entry WHERE appointment_id = %s", [appointment_id]),
        (f"SELECT {_ENTRY} FROM ledger_entry WHERE appointment_id = %s ORDER BY sequence, id LIMIT %s OFFSET %s",
         [appointment_id, per_page, (page - 1) * per_page]),
    )  # fmt: skip
    if pipelined:  # the three in one round trip
        with connection.connection.pipeline():
            cursors = [connection.connection.cursor() for _ in statements]
            for each, (sql, args) in zip(cursors, statements, strict=True):
                each.execute(sql, args)
            found, (total,), rows = cursors[0].fetchone(), cursors[1].fetchone(), cursors[2].fetchall()
    else:
        cursor.execute(*statements[0])
        found = cursor.fetchone()
        cursor.execute(*statements[1])
        (total,) = cursor.fetchone()
        cursor.execute(*statements[2])
        rows = cursor.fetchall()
    if found is None:
        return _error(404)
    data = [
        {"id": pk, "sequence": sequence, "type": kind, "occurred_at": milliseconds(at),
         "actor": {"type": actor_type, "id": actor_id or None, "name": name or None}, "channel": channel,
         "data": json.loads(entry_data) if isinstance(entry_data, str) else entry_data, "hash": digest}
        for pk, sequence, kind, at, actor_type, actor_id, name, channel, entry_data, digest in rows
    ]  # fmt: skip
    body = _paginated(request, data, total, page, per_page, f"{API_PATH}/{appointment_id}/events")
    return _answer_whole(body, request)


def _answer_whole(body: dict[str, Any], request: HttpRequest) -> HttpResponse:
    """A body whose ETag is its own digest (the API's `representation_etag` of the whole answer)."""
    text = _text(body)
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
    if request.META.get("HTTP_IF_NONE_MATCH") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(text.encode(), content_type="application/json", headers={"ETag": etag})


_PARTICIPANTS = (
    "SELECT p.id, p.role, p.display_name, p.user_id, p.token, p.joined_waiting_at, p.admitted_at, p.left_at, "
    "p.revoked_at, p.identity_checked_at, p.identity_failures, p.identity_locked_at, p.recording_consent, "
    "p.recording_consent_at, p.device_checked_at, p.device_check, p.admitted_by_id, u.first_name, u.last_name, "
    "u.username, c.name, c.date_of_birth, a.features_call_recording_enable "
    "FROM appointments_appointment a JOIN claimants_claimant c ON c.appointment_id = a.id "
    "LEFT JOIN meetings_participant p ON p.appointment_id = a.id LEFT JOIN auth_user u ON u.id = p.user_id "
    f"WHERE a.id = %s AND {_TENANCY} ORDER BY p.created_at, p.id"
)
_AGENT_PAGE: list[str] = []  # the back office's meeting page, its id a placeholder (reversed once)


def _participant(row: tuple[Any, ...], appointment_id: uuid.UUID) -> dict[str, Any]:
    (pk, role, name, user_id, token, waiting, admitted, left, revoked, checked, failures, locked, consent, consent_at,
     device_at, device, admitted_by, first, last, username, claimant_name, born, recording) = row  # fmt: skip
    if role == "claimant":
        name = claimant_name or ""
    elif role == "agent" and user_id is not None:
        name = f"{first} {last}".strip() or username
    if role == "agent":
        if not _AGENT_PAGE:
            _AGENT_PAGE.append(settings.PUBLIC_BASE_URL + reverse("admin:appointments_appointment_meeting",
                                                                  args=[uuid.UUID(int=0)]))  # fmt: skip
        url = _AGENT_PAGE[0].replace(str(uuid.UUID(int=0)), str(appointment_id))
    else:
        url = f"{settings.PUBLIC_BASE_URL}/join/{token}"
    device = device or {}
    shown = {
        "id": str(pk), "role": role, "display_name": name, "agent_id": user_id if role == "agent" else None,
        "url": url, "joined_waiting_at": milliseconds(waiting), "admitted_at": milliseconds(admitted),
        "left_at": milliseconds(left), "revoked_at": milliseconds(revoked),
        "identity_check": {"required": role == "claimant" and born is not None, "passed_at": milliseconds(checked),
                           "failed_attempts": failures, "locked_at": milliseconds(locked)},
        "recording_consent": {"required": role != "agent" and recording, "given": consent,
                              "answered_at": milliseconds(consent_at)},
        "device_check": {"checked_at": milliseconds(device_at), "camera": device.get("camera"),
                         "microphone": device.get("microphone"), "downlink_kbps": device.get("downlink_kbps")},
    }  # fmt: skip
    if admitted_by is not None:
        shown["admitted_by_id"] = admitted_by
    return shown


@_authorised
def floor_participants(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pk: str, pipelined: bool = False
) -> HttpResponse:
    """The appointment's participants, in one statement with its tenancy."""
    try:
        appointment_id = uuid.UUID(pk)
    except ValueError:
        return _error(404)
    user_id, superuser = caller
    cursor.execute(_PARTICIPANTS, [appointment_id, superuser, user_id])
    rows = cursor.fetchall()
    if not rows:
        return _error(404)
    data = [_participant(row, appointment_id) for row in rows if row[0] is not None]
    return HttpResponse(_text({"data": data}).encode(), content_type="application/json")


@_authorised
def floor_guests(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pk: str, pipelined: bool = False
) -> HttpResponse:
    """Invite a guest: the participant, its history row and the ledger's entry, under the appointment's lock."""
    try:
        appointment_id = uuid.UUID(pk)
        name = json.loads(request.body)["display_name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return _error(422, {"display_name": ["invalid"]})
    user_id, superuser = caller
    name = name.strip()
    with _Unit(cursor, pipelined) as unit:
        cursor.execute(_LOCK_STATUS, [appointment_id, superuser, user_id])
        head = _read_head(cursor, appointment_id, pipelined)
        row = cursor.fetchone()
        if row is None:
            return _error(404)
        (status, recording, claimant_name, born) = row
        if status in _FINAL:
            return _error(422, {"appointment": ["Guests cannot be invited to an appointment that has ended."]})
        now, guest_id, token = datetime.now(UTC), uuid.uuid4(), secrets.token_urlsafe(24)
        cursor.execute(
            "INSERT INTO meetings_participant (id, appointment_id, role, display_name, token, created_at, "
            "identity_failures) VALUES (%s, %s, 'guest', %s, %s, %s, 0)",
            [guest_id, appointment_id, name, token, now],
        )
        _history(cursor, "meetings_participant", "id = %s", [guest_id], "+", user_id)
        about = {"participant": {"id": str(guest_id), "role": "guest"}}
        _ledger(cursor, appointment_id, user_id, [("participant.invited", about, {"display_name": name})], head())
        unit.commit()
    shown = _participant(
        (guest_id, "guest", name, None, token, *[None] * 5, 0, None, None, None, None, None, None, None, None, None,
         claimant_name, born, recording),
        appointment_id,
    )  # fmt: skip
    return HttpResponse(_text({"data": shown}).encode(), status=201, content_type="application/json")


_FINAL = ("completed", "cancelled", "no_show")
_LOCK_STATUS = (
    "SELECT a.status, a.features_call_recording_enable, c.name, c.date_of_birth FROM appointments_appointment a "
    f"JOIN claimants_claimant c ON c.appointment_id = a.id WHERE a.id = %s AND {_TENANCY} FOR UPDATE OF a"
)


@_authorised
def floor_cancel(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pk: str, pipelined: bool = False
) -> HttpResponse:
    """Cancel with a reason: the PATCH to `cancelled` of a live appointment."""
    try:
        appointment_id = uuid.UUID(pk)
        reason = json.loads(request.body).get("cancellation_reason") if request.body else None
        if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
            raise ValueError
        reason = (reason or "").strip() or None
    except (ValueError, TypeError, AttributeError):
        return _error(422, {"cancellation_reason": ["invalid"]})
    user_id, superuser = caller
    with _Unit(cursor, pipelined) as unit:
        cursor.execute(_ONE + " FOR UPDATE OF a", [appointment_id, superuser, user_id])
        head = _read_head(cursor, appointment_id, pipelined)
        row = cursor.fetchone()
        if row is None:
            return _error(404)
        rep = _representation(row)
        old = rep["status"]
        if old in _FINAL:
            return _error(422, {"status": ["cannot be cancelled"]})
        now = datetime.now(UTC)
        changes: dict[str, Any] = {"status": "cancelled", "cancelled_at": now}
        if reason != rep["cancellation_reason"]:
            changes["cancellation_reason"] = reason
        cursor.execute(
            f"UPDATE appointments_appointment SET {', '.join(f'{k} = %s' for k in changes)}, updated_at = %s "
            "WHERE id = %s",
            [*changes.values(), now, appointment_id],
        )
        _history(cursor, "appointments_appointment", "id = %s", [appointment_id], "~", user_id)
        public = {"status": {"old": old, "new": "cancelled"}, "cancelled_at": {"old": rep["cancelled_at"],
                  "new": milliseconds(now)}}  # fmt: skip
        personal = {}
        if "cancellation_reason" in changes:
            personal["cancellation_reason"] = {"old": rep["cancellation_reason"], "new": reason}
        rep["status"], rep["cancelled_at"], rep["cancellation_reason"] = "cancelled", milliseconds(now), reason
        fields = [name for name in changes]
        events: list[tuple[str, Any]] = [
            ("appointment.updated", {"appointment": rep, "changed_fields": fields}),
            ("appointment.status_changed", {"appointment": rep, "from": old, "to": "cancelled"}),
            ("appointment.cancelled", {"appointment": rep}),
        ]
        _record(cursor, rep, row[_DEPARTMENT_ID], events)
        _ledger(cursor, appointment_id, user_id, [
            ("appointment.updated", {"changed_fields": fields, "changes": public},
             {"changes": personal} if personal else {}),
            ("appointment.status_changed", {"from": old, "to": "cancelled"}, {}),
            ("appointment.cancelled", {"outcome": None}, {"reason": reason} if reason else {}),
        ], head())  # fmt: skip
        unit.commit()
    return _answer(rep)


_RULES = ("slot_minutes", "buffer_before_minutes", "buffer_after_minutes", "notice_to_book_minutes", "horizon_days")
_SLOT_DEPARTMENT = (
    f"SELECT d.time_zone, {', '.join(f'r.{name}' for name in _RULES)} FROM appointments_department d "
    "LEFT JOIN appointments_bookingrules r ON r.department_id = d.id WHERE d.id = %s AND "
    + _TENANCY.replace("a.department_id", "d.id")
)
_SLOT_HOURS = (
    "SELECT agent_id, weekday, starts_at, ends_at FROM appointments_workinghours WHERE department_id = %s AND "
    "(agent_id IS NULL OR agent_id IN (SELECT u.id FROM auth_user u JOIN appointments_department_members m "
    "ON m.user_id = u.id WHERE m.department_id = %s AND u.is_active AND u.is_staff))"
)
_SLOT_LAST = (
    "SELECT agent_id, max(created_at) FROM appointments_appointment WHERE department_id = %s AND agent_id = ANY(%s) "
    "GROUP BY agent_id"
)
_SLOT_DAYS = (
    "SELECT agent_id, day, kind, starts_at, ends_at FROM appointments_hoursexception WHERE department_id = %s "
    "AND day BETWEEN %s AND %s"
)
_SLOT_BUSY = (
    "SELECT agent_id, FLOOR(EXTRACT(EPOCH FROM appointment_at) / 60)::bigint, duration_in_minutes, "
    "buffer_before_minutes, buffer_after_minutes FROM appointments_appointment WHERE agent_id = ANY(%s) "
    "AND status = ANY(%s) AND appointment_at > %s AND appointment_at < %s"
)


@_authorised
def floor_slots(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], pk: str, pipelined: bool = False
) -> HttpResponse:
    """A department's free times, `from` and `to` (no agent asked for: the round robin's), by hand: the five reads,
    then the same arithmetic (appointments.free_times, plain Python) and the same writer of the answer's text."""
    from zoneinfo import ZoneInfo

    from appointments.api.slots import shown_minutes
    from appointments.availability import MAX_BUFFER, BookingRules
    from appointments.free_times import Calendar, Week, free_starts, from_minutes, to_minutes, to_minutes_up
    from appointments.models import LIVE_STATUSES, MAX_DURATION
    from appointments.slots import FreeMinutes, _minutes  # _minutes: an end of 00:00 is midnight (read, not copied)
    from config.api.fields import parse_time

    user_id, superuser = caller
    try:
        department_id = uuid.UUID(pk)
        start, end = parse_time(request.GET["from"]), parse_time(request.GET["to"])
        if end <= start or end - start > timedelta(days=31):
            raise ValueError
    except (ValueError, KeyError):
        return _error(422, {"from": ["invalid"]})
    cursor.execute(_SLOT_DEPARTMENT, [department_id, superuser, user_id])
    found = cursor.fetchone()
    if found is None:
        return _error(404)
    zone_name, *rules = found
    default = BookingRules()
    slot, before, after, notice, horizon = (
        value if value is not None else getattr(default, name) for name, value in zip(_RULES, rules, strict=True)
    )
    duration, now = slot, datetime.now(UTC)
    lowest = max(to_minutes_up(start), to_minutes_up(now + timedelta(minutes=notice)))
    highest = min(to_minutes_up(end), to_minutes(now + timedelta(days=horizon)) + 1)
    if lowest >= highest:
        return HttpResponse(b'{"data":[]}', content_type="application/json")
    zone = ZoneInfo(zone_name)
    first_day = from_minutes(lowest).astimezone(zone).date() - timedelta(days=1)
    last_day = from_minutes(highest + duration).astimezone(zone).date() + timedelta(days=1)
    cursor.execute(_SLOT_HOURS, [department_id, department_id])
    hours_rows = cursor.fetchall()
    staffed = sorted({row[0] for row in hours_rows if row[0] is not None})
    agents: list[int | None] = [None]
    if staffed:
        cursor.execute(_SLOT_LAST, [department_id, staffed])
        last = dict(cursor.fetchall())
        agents = sorted(staffed, key=lambda agent: (agent in last, last.get(agent) or datetime.min, agent))
    hours: dict[int | None, dict[int, list[tuple[int, int]]]] = {agent: {} for agent in agents}
    for owner, weekday, begins, finishes in hours_rows:
        if owner in hours:
            hours[owner].setdefault(weekday, []).append((_minutes(begins), _minutes(finishes, end=True)))
    cursor.execute(_SLOT_DAYS, [department_id, first_day, last_day])
    days: dict[int | None, dict[str, dict[Any, list[tuple[int, int]]]]] = {}
    for who, day, kind, begins, finishes in cursor.fetchall():
        spans = days.setdefault(who, {"off": {}, "extra": {}})[kind].setdefault(day, [])
        spans.append((_minutes(begins), _minutes(finishes, end=True)))
    shared = days.get(None, {"off": {}, "extra": {}})
    busy: dict[int, list[tuple[int, int]]] = {}
    if staffed:
        reach = timedelta(minutes=MAX_DURATION + 2 * MAX_BUFFER)
        cursor.execute(
            _SLOT_BUSY,
            [staffed, sorted(LIVE_STATUSES), from_minutes(lowest) - reach, from_minutes(highest + duration) + reach],
        )
        for agent, at, minutes, ahead, behind in cursor.fetchall():
            busy.setdefault(agent, []).append((at - ahead, at + minutes + behind))
    calendar = Calendar(zone, first_day, last_day)
    taken: dict[int, int | None] = {}
    weeks: dict[Any, list[tuple[int, int]]] = {}
    for agent in agents:  # in the round robin's order: the first free agent keeps a start
        mine = days.get(agent, {"off": {}, "extra": {}}) if agent is not None else {"off": {}, "extra": {}}
        off = {d: [*shared["off"].get(d, []), *mine["off"].get(d, [])] for d in {*shared["off"], *mine["off"]}}
        extra = {
            d: [*shared["extra"].get(d, []), *mine["extra"].get(d, [])] for d in {*shared["extra"], *mine["extra"]}
        }
        key = tuple(tuple(sorted((k, tuple(v)) for k, v in part.items())) for part in (hours[agent], off, extra))
        if key not in weeks:
            weeks[key] = calendar.worked(Week(hours=hours[agent], off=off, extra=extra))
        for moment in free_starts(
            worked=weeks[key], busy=busy.get(agent, ()) if agent is not None else (), duration=duration, step=slot,
            before=before, after=after, clock=calendar.clock, lowest=lowest, highest=highest, skip=taken,
        ):  # fmt: skip
            taken[moment] = agent
    found_times = FreeMinutes(sorted(taken.items()), calendar.clock)
    return HttpResponse(_text({"data": shown_minutes(found_times, duration)}).encode(), content_type="application/json")


def _history(cursor: Any, table: str, where: str, args: list[Any], kind: str, user_id: int) -> None:
    """One history row per record, copied from the row as written (django-simple-history's columns)."""
    columns = _table_columns(table)
    cursor.execute(
        f"INSERT INTO {_history_table(table)} ({', '.join(columns)}, history_date, "
        f"history_change_reason, history_type, history_user_id) "
        f"SELECT {', '.join(columns)}, %s, NULL, %s, %s FROM {table} WHERE {where}",
        [datetime.now(UTC), kind, user_id, *args],
    )


_COLUMN_CACHE: dict[str, list[str]] = {}
_TRACKED = ("appointments_appointment", "claimants_claimant", "claimants_claimantdata", "meetings_meeting",
            "meetings_participant")  # fmt: skip


def _table_columns(table: str) -> list[str]:
    """The columns a history table copies from its table (read once, at the first write)."""
    if table not in _COLUMN_CACHE:
        with connection.cursor() as cursor:
            source = connection.introspection.get_table_description(cursor, table)
            kept = {c.name for c in connection.introspection.get_table_description(cursor, _history_table(table))}
        _COLUMN_CACHE[table] = [c.name for c in source if c.name in kept]
    return _COLUMN_CACHE[table]


def _history_table(table: str) -> str:
    return table.replace("_", "_historical", 1)


def _phone(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        number = phonenumbers.parse(str(raw), settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _moment(raw: Any) -> datetime:
    moment = parse_datetime(raw) if isinstance(raw, str) else None
    if moment is None:
        raise ValueError
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _record(cursor: Any, representation: dict[str, Any], department_id: Any, events: list[tuple[str, Any]]) -> None:
    now, ids, values = datetime.now(UTC), [], []
    for event_type, extra in events:
        ids.append(uuid.uuid4())
        values += [ids[-1], event_type, representation["id"], department_id, _text(extra), now]
    cursor.execute(
        "INSERT INTO events_event (id, type, appointment_id, department_id, data, created_at) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(events)),
        values,
    )
    # The task that fans them out, as one INSERT (the row django-tasks-db's enqueue writes, with the request's id
    # beside the arguments as config.queue stores it), not through the library's model and signals.
    arguments: dict[str, Any] = {"args": [[str(pk) for pk in ids]], "kwargs": {}}
    if request_id := get_guid():
        arguments["request_id"] = request_id
    cursor.execute(
        _TASK_INSERT,
        [uuid.uuid4(), now, _text(arguments), events_dispatch.priority, events_dispatch.module_path,
         events_dispatch.queue_name, get_date_max()],
    )  # fmt: skip


_TASK_INSERT = (
    "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, args_kwargs, priority, task_path, "
    "worker_ids, queue_name, backend_name, run_after, exception_class_path, traceback) "
    "VALUES (%s, 'READY', %s, %s, %s, %s, '[]', %s, 'default', %s, '', '')"
)


_HEAD = "SELECT sequence, hash FROM ledger_entry WHERE appointment_id = %s ORDER BY sequence DESC LIMIT 1"


def _read_head(cursor: Any, appointment_id: Any, pipelined: bool) -> Callable[[], tuple[int, str]]:
    """The ledger's chain head, read after the lock's statement (a statement of its own, so it sees what the lock
    waited for); returns how to fetch it. Pipelined, it is sent now on a cursor of its own and arrives with the
    lock's row; lean, it is read when fetched."""
    if pipelined:
        reader = connection.connection.cursor()
        reader.execute(_HEAD, [appointment_id])
        return lambda: reader.fetchone() or (0, GENESIS)

    def lean() -> tuple[int, str]:
        cursor.execute(_HEAD, [appointment_id])
        return cast(tuple[int, str], cursor.fetchone() or (0, GENESIS))

    return lean


def _ledger(
    cursor: Any, appointment_id: Any, user_id: int, entries: list[tuple[str, Any, Any]], head: tuple[int, str]
) -> None:
    """The appointment's next ledger entries (type, data, personal values) after its chain's `head`, by hand."""
    (sequence, previous), now, values = head, datetime.now(UTC), []
    for kind, data, personal in entries:
        sequence += 1
        stored = {"salt": secrets.token_hex(16), "values": {"actor_name": _ACTOR_NAMES[user_id], **personal}}
        digest = hashlib.sha256(canonical(stored)).hexdigest()
        hashed = entry_hash(
            appointment_id=appointment_id, sequence=sequence, occurred_at=now, actor_type="api_user",
            actor_id=str(user_id), channel="api", type=kind, data=data, personal_digest=digest, previous_hash=previous,
        )  # fmt: skip
        values += [appointment_id, sequence, now, str(user_id), kind, _text(data), digest, _text(stored), previous]
        values.append(hashed)
        previous = hashed
    cursor.execute(
        "INSERT INTO ledger_entry (appointment_id, sequence, occurred_at, actor_type, actor_id, channel, type, data, "
        "personal_digest, personal, previous_hash, hash) VALUES "
        + ", ".join(["(%s, %s, %s, 'api_user', %s, 'api', %s, %s::jsonb, %s, %s::jsonb, %s, %s)"] * len(entries)),
        values,
    )


def _schedule(start: str | None, minutes: int) -> dict[str, Any]:
    return {"appointment_at": start, "duration_in_minutes": minutes}


def _patch(
    request: HttpRequest, cursor: Any, caller: tuple[int, bool], appointment_id: uuid.UUID, pipelined: bool,
    parse: Callable[[HttpRequest], dict[str, Any]],
) -> HttpResponse:  # fmt: skip
    """Time, duration, the claimant's phone number and data values: what the benchmark sends."""
    user_id, superuser = caller
    try:
        body = parse(request)
        claimant = body.get("claimant", {})
        at = _moment(body["appointment_at"]) if "appointment_at" in body else None
        minutes = body.get("duration_in_minutes")
        if minutes is not None and (type(minutes) is not int or not 5 <= minutes <= 480):
            raise ValueError
        phone = _phone(claimant["phone_number"]) if "phone_number" in claimant else None
        items = {str(uuid.UUID(item["id"])): item["value"] for item in claimant.get("data", [])}
        if any(not isinstance(value, str) or len(value) > 2000 for value in items.values()):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        return _error(422, {"body": ["invalid"]})
    with _Unit(cursor, pipelined) as unit:
        cursor.execute(_ONE + " FOR UPDATE OF a", [appointment_id, superuser, user_id])
        head = _read_head(cursor, appointment_id, pipelined)
        row = cursor.fetchone()
        if row is None:
            return _error(404)
        rep = _representation(row)
        claimant_id, department_id = row[_CLAIMANT_ID], row[_DEPARTMENT_ID]
        now = datetime.now(UTC)
        if (at is not None or minutes is not None) and rep["status"] not in ("scheduled", "waiting"):
            return _error(422, {"appointment_at": ["not reschedulable"]})
        if at is not None and at < now:
            return _error(422, {"appointment_at": ["The appointment at field must be a date after now."]})
        known = {item["id"]: item for item in rep["claimant"]["data"]}
        if any(pk not in known or known[pk]["type"] != "string" for pk in items):
            return _error(422, {"claimant.data": ["invalid"]})
        previous = _schedule(rep["appointment_at"], rep["duration_in_minutes"])
        changes: dict[str, Any] = {}
        public: dict[str, Any] = {}  # the ledger's changed values, old and new; the personal ones apart
        personal: dict[str, Any] = {}
        if at is not None and milliseconds(at) != rep["appointment_at"]:
            changes["appointment_at"] = at
        if minutes is not None and minutes != rep["duration_in_minutes"]:
            changes["duration_in_minutes"] = minutes
        fields = list(changes)
        if changes:
            cursor.execute(  # nothing read back: the values written are known
                f"UPDATE appointments_appointment SET {', '.join(f'{k} = %s' for k in changes)}, updated_at = %s "
                "WHERE id = %s",
                [*changes.values(), now, appointment_id],
            )
            start = changes.get("appointment_at") or _moment(rep["appointment_at"])
            duration = changes.get("duration_in_minutes", rep["duration_in_minutes"])
            _history(cursor, "appointments_appointment", "id = %s", [appointment_id], "~", user_id)
            for name, new in (("appointment_at", milliseconds(start)), ("duration_in_minutes", duration)):
                if name in changes:
                    public[name] = {"old": rep[name], "new": new}
            rep["appointment_at"], rep["duration_in_minutes"] = milliseconds(start), duration
            cursor.execute(
                "UPDATE meetings_meeting SET start_date = %s, end_date = %s WHERE appointment_id = %s",
                [start, start + timedelta(minutes=duration), appointment_id],
            )
            rep["meeting"]["start_date"] = seconds(start)
            rep["meeting"]["end_date"] = seconds(start + timedelta(minutes=duration))
        if "phone_number" in claimant and phone != rep["claimant"]["phone_number"]:
            cursor.execute("UPDATE claimants_claimant SET phone_number = %s WHERE id = %s", [phone, claimant_id])
            _history(cursor, "claimants_claimant", "id = %s", [claimant_id], "~", user_id)
            personal["claimant.phone_number"] = {"old": rep["claimant"]["phone_number"], "new": phone}
            rep["claimant"]["phone_number"] = phone
            fields.append("claimant.phone_number")
        changed = {pk: value.strip() or None for pk, value in items.items() if known[pk]["value"] != value.strip()}
        for pk, value in changed.items():
            cursor.execute("UPDATE claimants_claimantdata SET value = %s WHERE id = %s", [value, pk])
            personal[f"claimant.data.{pk}"] = {"old": known[pk]["value"], "new": value}
            known[pk]["value"] = value
        if changed:
            _history(cursor, "claimants_claimantdata", "id = ANY(%s)", [list(changed)], "~", user_id)
            fields.append("claimant.data")
        if changes:
            _history(cursor, "meetings_meeting", "appointment_id = %s", [appointment_id], "~", user_id)
        if fields:
            events: list[tuple[str, Any]] = [("appointment.updated", {"appointment": rep, "changed_fields": fields})]
            if changes:
                current = _schedule(rep["appointment_at"], rep["duration_in_minutes"])
                events.append(
                    ("appointment.rescheduled", {"appointment": rep, "previous": previous, "current": current})
                )
            _record(cursor, rep, department_id, events)
            updated = {"changed_fields": fields, "changes": public}
            entries = [("appointment.updated", updated, {"changes": personal} if personal else {})]
            if changes:
                entries.append(("appointment.rescheduled", {"previous": previous, "current": current}, {}))
            _ledger(cursor, appointment_id, user_id, entries, head())
        unit.commit()
    return _answer(rep)


def _create(request: HttpRequest, cursor: Any, caller: tuple[int, bool], pipelined: bool) -> HttpResponse:
    """A scheduled appointment in a named department, with a claimant (name, phone, data by field name)."""
    try:
        body = json.loads(request.body)
        at, minutes = _moment(body["appointment_at"]), body["duration_in_minutes"]
        if type(minutes) is not int or not 5 <= minutes <= 480 or at < datetime.now(UTC):
            raise ValueError
        department_id = uuid.UUID(body["department_id"])
        claimant = body["claimant"]
        name = claimant["name"].strip()
        phone = _phone(claimant.get("phone_number"))
        given = claimant.get("data") or {}
        if not name or any(not isinstance(value, str) or len(value) > 2000 for value in given.values()):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        return _error(422, {"body": ["invalid"]})
    for _attempt in range(5):  # a new reference when the drawn one is taken (the unit rolled back)
        try:
            made = _create_unit(cursor, caller, pipelined, at, minutes, department_id, name, phone, given)
        except _ReferenceTaken:
            continue
        if isinstance(made, HttpResponse):
            return made
        rep = made
        break
    response = _answer(rep, status=201)
    response["Location"] = request.build_absolute_uri(f"{API_PATH}/{rep['id']}")
    return response


class _ReferenceTaken(Exception):
    """The reference drawn is another appointment's in the department."""


_FEATURES = ", ".join(FEATURE_FIELDS)
_DEPARTMENT = (
    f"SELECT {_FEATURES}, d.name, (SELECT json_agg(json_build_array(f.id, f.name, f.type, f.required) "
    "ORDER BY f.position, f.name) FROM claimants_claimantdatafield f WHERE f.department_id = d.id) "
    "FROM appointments_department d WHERE d.id = %s AND " + _TENANCY.replace("a.department_id", "d.id")
)
_INSERT_APPOINTMENT = (
    f"INSERT INTO appointments_appointment (id, department_id, agent_id, reference, appointment_at, "
    f"duration_in_minutes, is_interpreter_needed, status, public_token, created_at, updated_at, "
    f"use_custom_post_call_redirect, buffer_before_minutes, buffer_after_minutes, {_FEATURES}) "
    f"VALUES (%s, %s, NULL, %s, %s, %s, false, 'scheduled', %s, %s, %s, false, 0, 0, "
    f"{', '.join(['%s'] * len(FEATURE_FIELDS))}) "
    "ON CONFLICT ON CONSTRAINT appointment_reference_unique_in_dept DO NOTHING RETURNING id"
)
_UNSET = {  # what a new appointment's representation shows that the create does not write
    "is_interpreter_needed": False, "interpreter_language": None, "status": "scheduled", "cancelled_at": None,
    "cancellation_reason": None, "claimant__email": None, "claimant__date_of_birth": None,
    "claimant__preferred_language": None, "claimant__erased_at": None,
    "session_started_at": None, "session_ended_at": None, "use_custom_post_call_redirect": False,
    "custom_user_post_call_redirect_url": None, "custom_agent_post_call_redirect_url": None, "outcome": None,
}  # fmt: skip


def _create_unit(
    cursor: Any, caller: tuple[int, bool], pipelined: bool, at: datetime, minutes: int, department_id: uuid.UUID,
    name: str, phone: str | None, given: dict[str, Any],
) -> dict[str, Any] | HttpResponse:  # fmt: skip
    """The create's transaction: the department's read, then the writes; the answer built from what was written
    (no read-back). Pipelined, a taken reference shows as the claimant's insert failing (its appointment was not
    written), and the unit is tried again as when the lean one sees no id returned."""
    user_id, superuser = caller
    try:
        with _Unit(cursor, pipelined) as unit:
            cursor.execute(_DEPARTMENT, [department_id, superuser, user_id])
            found = cursor.fetchone()
            if found is None:
                return _error(422, {"department_id": ["The selected department id is invalid."]})
            features, department_name = found[: len(FEATURE_FIELDS)], found[len(FEATURE_FIELDS)]
            fields = {field_name: (pk, kind, required) for pk, field_name, kind, required in found[-1] or []}
            if any(key not in fields or fields[key][1] != "string" for key in given):
                return _error(422, {"claimant.data": ["invalid"]})
            if any(required and not (given.get(key) or "").strip() for key, (_p, _k, required) in fields.items()):
                return _error(422, {"claimant.data": ["required"]})
            now, appointment_id, token = datetime.now(UTC), uuid.uuid4(), secrets.token_urlsafe(24)
            reference = str(10**8 + secrets.randbelow(9 * 10**8))
            cursor.execute(
                _INSERT_APPOINTMENT, [appointment_id, department_id, reference, at, minutes, token, now, now, *features]
            )
            if not pipelined and cursor.fetchone() is None:
                raise _ReferenceTaken
            _history(cursor, "appointments_appointment", "id = %s", [appointment_id], "+", user_id)
            claimant_id = uuid.uuid4()
            cursor.execute(
                "INSERT INTO claimants_claimant (id, appointment_id, name, phone_number) VALUES (%s, %s, %s, %s)",
                [claimant_id, appointment_id, name, phone],
            )
            _history(cursor, "claimants_claimant", "id = %s", [claimant_id], "+", user_id)
            items = [(uuid.uuid4(), (given.get(key) or "").strip() or None, key, kind, required, pk)
                     for key, (pk, kind, required) in fields.items()]  # fmt: skip
            if items:
                cursor.execute(
                    "INSERT INTO claimants_claimantdata (id, claimant_id, field_id, value) VALUES "
                    + ", ".join(["(%s, %s, %s, %s)"] * len(items)),
                    [value for pk, value, *_, field_id in items for value in (pk, claimant_id, field_id, value)],
                )
                _history(cursor, "claimants_claimantdata", "claimant_id = %s", [claimant_id], "+", user_id)
            room = "".join(
                secrets.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(32)
            )
            meeting = (10**9 + secrets.randbelow(9 * 10**9), f"Appointment {reference}",
                       f"{settings.VIDEO_BASE_URL}/{room}", at, at + timedelta(minutes=minutes))  # fmt: skip
            cursor.execute(
                "INSERT INTO meetings_meeting (id, appointment_id, room_name, room_url, start_date, end_date) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [meeting[0], appointment_id, *meeting[1:]],
            )
            _history(cursor, "meetings_meeting", "appointment_id = %s", [appointment_id], "+", user_id)
            cursor.execute(
                "INSERT INTO meetings_participant (id, appointment_id, role, display_name, token, created_at, "
                "identity_failures) VALUES (%s, %s, 'agent', 'Agent', %s, %s, 0), "
                "(%s, %s, 'claimant', 'Claimant', %s, %s, 0)",
                [uuid.uuid4(), appointment_id, secrets.token_urlsafe(24), now, uuid.uuid4(), appointment_id, token,
                 now],
            )  # fmt: skip
            _history(cursor, "meetings_participant", "appointment_id = %s", [appointment_id], "+", user_id)
            written = {
                **_UNSET, **dict(zip(FEATURE_FIELDS, features, strict=True)), "id": appointment_id,
                "reference": reference, "appointment_at": at, "duration_in_minutes": minutes, "public_token": token,
                "created_at": now, "department_id": department_id, "department__name": department_name,
                "claimant__name": name, "claimant__phone_number": phone, "claimant__id": claimant_id,
                **dict(zip(("meeting__id", "meeting__room_name", "meeting__room_url", "meeting__start_date",
                            "meeting__end_date"), meeting, strict=True)),
            }  # fmt: skip
            rep = _representation((*(written[column] for column in COLUMNS), [shape.item(i) for i in items]))
            _record(cursor, rep, department_id, [("appointment.created", {"appointment": rep})])
            booked = {"reference": reference, "department_id": str(department_id), "appointment_at": milliseconds(at),
                      "duration_in_minutes": minutes, "status": "scheduled", "agent_id": None,
                      "is_interpreter_needed": False}  # fmt: skip
            created = [("appointment.created", booked, {"claimant.name": name})]
            _ledger(cursor, appointment_id, user_id, created, (0, GENESIS))  # its first: no head to read
            unit.commit()
    except (IntegrityError, psycopg.errors.ForeignKeyViolation) as error:
        if pipelined and "claimant" in str(error):
            raise _ReferenceTaken from error
        raise
    return rep


# --- the claimant's status poll (issue 26.2) ------------------------------------------------------------------------

# What the poll's state, heartbeat and waiting room read: the live participant of the link, its appointment, and
# whether this browser is locked out of it, in one statement (prepared by PostgreSQL, as the API's is).
_POLL = (
    "SELECT p.id, p.role, p.identity_locked_at, p.joined_waiting_at, p.left_at, p.admitted_at, p.browser_digest, "
    "p.last_seen_at, p.shown_to_staff_at, p.message_sent_at, a.status, a.outcome, a.appointment_at, "
    "a.duration_in_minutes, EXISTS (SELECT 1 FROM meetings_participantbrowser b WHERE b.participant_id = p.id "
    "AND b.digest = %s AND b.identity_locked_at IS NOT NULL) "
    "FROM meetings_participant p JOIN appointments_appointment a ON a.id = p.appointment_id "
    "WHERE p.token = %s AND p.revoked_at IS NULL"
)
_MESSAGE = (
    "SELECT id, text, prepared FROM meetings_waitingmessage WHERE participant_id = %s AND created_at >= %s "
    "ORDER BY created_at DESC LIMIT 1"
)
# The heartbeat as config.writes writes it outside a transaction: its commit does not wait for the disk.
_SEEN = (
    "UPDATE meetings_participant SET last_seen_at = %s "
    "WHERE id = %s AND set_config('synchronous_commit', 'off', true) = 'off'"
)


def _public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The public pages' guard as meetings.views.public keeps it: a per-address counter (one cache operation),
    the page's language said, and the headers that keep the page and its token to the participant."""

    def guarded(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        key = f"floor-join:{request.META.get('REMOTE_ADDR')}:{int(time.time() // 60)}"
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first hit
            count = 1 if cache.add(key, 1, 120) else cache.incr(key)
        response = HttpResponse(status=429) if count > settings.PUBLIC_PAGE_RATE_PER_MINUTE else view(request, **kwargs)
        response["Content-Language"] = request_language(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        origin = video_origin()
        response._csp_update = {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]}  # type: ignore[attr-defined]
        return response

    return guarded


@_public
def floor_status(request: HttpRequest, token: str, pipelined: bool = False) -> HttpResponse:
    """The claimant's page's poll: the state in a few bytes, 304 while nothing changed, the heartbeat written when
    due. One prepared read; the state worked out by the service's own rules (meetings.services.pages.page_state,
    plain Python) over the row; a second read only when a message came since the participant joined. A prepared
    message (in the page's language) is not hand-written here: the benchmark's claimant has none."""
    if not _TOKEN.match(token):
        return HttpResponse(status=404)
    key = _browser_key(request, token)
    digest = browser_digest(key) if key else None
    with _server_cursor("default") as cursor:
        cursor.execute(_POLL, [digest, token])
        row = cursor.fetchone()
        if row is None:
            return HttpResponse(status=404)
        (pk, role, locked_at, joined, left, admitted, held_by, seen, shown, sent, status, outcome, at, minutes,
         locked_out) = row  # fmt: skip
        appointment = SimpleNamespace(
            status=status, outcome=outcome, appointment_at=at, ends_at=at + timedelta(minutes=minutes)
        )
        participant = SimpleNamespace(
            appointment=appointment, role=role, identity_locked_at=locked_at, joined_waiting_at=joined,
            left_at=left, admitted_at=admitted, browser_digest=held_by,
        )  # fmt: skip
        browser = Browser(digest=digest, locked_out=bool(locked_out))
        now = datetime.now(UTC)
        state = page_state(cast(Any, participant), now, browser)
        body: dict[str, Any] = {
            "state": state,
            "status": status,
            "appointment_at": at.isoformat(),
            "duration_in_minutes": minutes,
        }
        in_room = joined is not None and left is None
        if state == PageState.WAITING:
            if shown is not None and joined is not None and shown >= joined:
                body["staff_know"] = True
            if joined is not None and sent is not None and sent >= joined:
                cursor.execute(_MESSAGE, [pk, joined])
                message = cursor.fetchone()
                if message is not None:
                    if message[2]:
                        return HttpResponse(status=501)
                    body["message"] = {"id": message[0], "text": message[1]}
        seen_here = browser.holds(cast(Any, participant)) or held_by is None
        if seen_here and in_room and (seen is None or now - seen >= heartbeat_every()):
            cursor.execute(_SEEN, [now, pk])
    etag = '"' + hashlib.sha256(_text(body).encode()).hexdigest()[:40] + '"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return HttpResponse(status=304, headers={"ETag": etag})
    return HttpResponse(json.dumps(body).encode(), content_type="application/json", headers={"ETag": etag})


urlpatterns = [
    path("floor/appointments", floor_appointments),
    path("floor/appointments/<str:pk>", floor_appointment),
    path("floor/appointments/<str:pk>/cancel", floor_cancel),
    path("floor/appointments/<str:pk>/events", floor_events),
    path("floor/appointments/<str:pk>/participants", floor_participants),
    path("floor/appointments/<str:pk>/guests", floor_guests),
    path("floor/departments/<str:pk>/slots", floor_slots),
    path("floor/join/<str:token>/status", floor_status),
    path("floor-rt/appointments", floor_appointments, {"pipelined": True}),
    path("floor-rt/appointments/<str:pk>", floor_appointment, {"pipelined": True}),
    path("floor-rt/appointments/<str:pk>/cancel", floor_cancel, {"pipelined": True}),
    path("floor-rt/appointments/<str:pk>/events", floor_events, {"pipelined": True}),
    path("floor-rt/appointments/<str:pk>/participants", floor_participants, {"pipelined": True}),
    path("floor-rt/appointments/<str:pk>/guests", floor_guests, {"pipelined": True}),
    path("floor-rt/departments/<str:pk>/slots", floor_slots, {"pipelined": True}),
    path("floor-rt/join/<str:token>/status", floor_status, {"pipelined": True}),  # one statement: nothing to pipeline
    path("", include("config.urls")),
]
settings.ROOT_URLCONF = __name__
application = get_wsgi_application()


# --- the run --------------------------------------------------------------------------------------------------

WHEN = ("2031-03-01T09:00:00.000Z", "2031-03-02T10:30:00.000Z")
PHONES = ("020 7123 4567", "07911 123456")


class Bench:
    """The data of the run: one department with a string data field, a member with a token, appointments."""

    def __init__(self, count: int) -> None:
        from django.test import Client
        from rest_framework.throttling import UserRateThrottle

        from claimants.models import ClaimantDataField, FieldType
        from tests.factories import DepartmentFactory, make_appointment
        from tests.support import persona

        UserRateThrottle.THROTTLE_RATES = {"user": f"{RATE_PER_MINUTE}/min"}
        self.department = DepartmentFactory.create(name="Bench")
        ClaimantDataField.objects.create(department=self.department, name="Case number", type=FieldType.STRING)
        member = persona("bench-agent", self.department)
        self.token = member.token
        self.client = Client(headers={"Authorization": f"Bearer {member.token}"})
        appointments = [
            make_appointment(self.department, claimant={"name": f"Claimant {n}", "data": {"Case number": f"C-{n}"}})
            for n in range(count)
        ]
        self.ids = [str(a.pk) for a in appointments]
        self.items = [str(a.claimant.data.get().pk) for a in appointments]
        self.n = 0
        self.created: list[str] = []  # the creates' appointments, which the cancels take in turn
        self.slots = self.free_times_department(member.user)
        self.poll_token, self.cookie = self.waiting_claimant()
        self.client.cookies.load(self.cookie)

    def waiting_claimant(self) -> tuple[str, str]:
        """An appointment starting in 5 minutes whose claimant waits in the waiting room (the device checked, just
        seen) in the browser that holds the link, as bench/status_poll.py's; its link's token and the Cookie
        header that browser sends (the API ignores it)."""
        from django.utils import timezone

        from appointments.models import Appointment, Status
        from bench.status_poll import held_link_cookie
        from meetings.browsers import new_browser_key
        from meetings.models import Participant, Role
        from tests.factories import make_appointment

        now = timezone.now()
        appointment = make_appointment(self.department, appointment_at=now + timedelta(minutes=5),
                                       claimant={"name": "Waiting claimant"})  # fmt: skip
        Appointment.objects.filter(pk=appointment.pk).update(status=Status.WAITING)
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        key = new_browser_key()
        Participant.objects.filter(pk=claimant.pk).update(
            device_checked_at=now, joined_waiting_at=now, last_seen_at=now, browser_digest=browser_digest(key)
        )
        return claimant.token, held_link_cookie(claimant.token, key)

    @staticmethod
    def free_times_department(member: Any) -> str:
        """bench/slots.py's department of free times with 5 agents over 14 days from tomorrow (a bank holiday, an
        agent's week of leave, an appointment per agent per working day); the member may read it. Returns the path
        of its free times."""
        from bench.slots import free_times_department

        department, _first, window = free_times_department(agents=5, days=14, bank_holiday=6, username="bench-slots-")
        department.members.add(member)
        return f"departments/{department.pk}/slots?{window}"

    def patch_body(self, index: int, n: int) -> dict[str, Any]:
        data = [{"id": self.items[index], "value": f"V-{n}"}]
        claimant = {"phone_number": PHONES[n % 2], "data": data}
        return {"appointment_at": WHEN[n % 2], "duration_in_minutes": 30 + n % 2, "claimant": claimant}

    def create_body(self, n: int) -> dict[str, Any]:
        claimant = {"name": f"New {n}", "phone_number": PHONES[n % 2], "data": {"Case number": f"N-{n}"}}
        at = (datetime(2031, 1, 1, tzinfo=UTC) + timedelta(minutes=n)).isoformat()
        return {"appointment_at": at, "duration_in_minutes": 30, "department_id": str(self.department.pk),
                "claimant": claimant}  # fmt: skip

    def requests(self) -> dict[str, Callable[[str], tuple[str, str, bytes | str | None]]]:
        """Per endpoint: (method, path, body) for the API (`prefix` /api/v1) or the floor (/floor); each call a
        new change (PATCH and create)."""

        def following() -> int:
            self.n += 1
            return self.n

        def patch(prefix: str) -> tuple[str, str, bytes | None]:
            n = following()
            index = n % (len(self.ids) - (len(self.ids) + 1) % 2)  # an odd cycle: each visit flips every value
            return "PATCH", f"{prefix}/appointments/{self.ids[index]}", json.dumps(self.patch_body(index, n)).encode()

        def override(prefix: str) -> tuple[str, str, bytes | str | None]:
            """The same PATCH as the original's integrations send it: POST, `_method=PATCH`, a form body."""
            n = following()
            index = n % (len(self.ids) - (len(self.ids) + 1) % 2)
            path = f"{prefix}/appointments/{self.ids[index]}?_method=PATCH"
            return "POST", path, self.form(self.patch_body(index, n))

        def cancel(prefix: str) -> tuple[str, str, bytes | None]:
            appointment = self.created.pop(0)  # made by this round's create (the create comes first)
            return "POST", f"{prefix}/appointments/{appointment}/cancel", b'{"cancellation_reason":"Bench"}'

        def guest(prefix: str) -> tuple[str, str, bytes | None]:
            index = 1 + following() % (len(self.ids) - 1)  # not the first, whose participants are listed
            return "POST", f"{prefix}/appointments/{self.ids[index]}/guests", b'{"display_name":"Bench guest"}'

        return {
            "GET one": lambda prefix: ("GET", f"{prefix}/appointments/{self.ids[0]}", None),
            "list, 15 per page": lambda prefix: ("GET", f"{prefix}/appointments", None),
            "list, 100 per page": lambda prefix: ("GET", f"{prefix}/appointments?per_page=100", None),
            "list, filtered+sorted": lambda prefix: ("GET", f"{prefix}/appointments?{FILTERED}", None),
            "list, every filter": lambda prefix: ("GET", f"{prefix}/appointments?{self.every_filter()}", None),
            "PATCH": patch,
            "POST _method=PATCH": override,
            "create": lambda prefix: (
                "POST",
                f"{prefix}/appointments",
                json.dumps(self.create_body(following())).encode(),
            ),
            "cancel": cancel,
            "participants": lambda prefix: ("GET", f"{prefix}/appointments/{self.ids[0]}/participants", None),
            "invite a guest": guest,
            "events": lambda prefix: ("GET", f"{prefix}/appointments/{self.ids[0]}/events", None),
            "free times": lambda prefix: ("GET", f"{prefix}/{self.slots}", None),
            "status poll": self.poll,
        }

    def poll(self, prefix: str) -> tuple[str, str, None]:
        """The claimant's page's poll: the service's at /join/…, a floor's under its prefix."""
        return "GET", f"{'' if prefix == '/api/v1' else prefix}/join/{self.poll_token}/status", None

    def every_filter(self) -> str:
        """Every filter docs/integrating.md lists but `q` and `reference` (which would leave one row)."""
        return (
            f"status=scheduled,waiting&department_id={self.department.pk}&appointment_at_from=2026-01-01T00:00:00Z"
            "&appointment_at_to=2032-01-01T00:00:00Z&is_interpreter_needed=false&sort=-created_at,reference"
        )

    @staticmethod
    def form(body: dict[str, Any]) -> str:
        """A JSON body as a PHP form writes it (bracket keys); a `str` body is sent as a form."""
        from urllib.parse import urlencode

        pairs = [("_method", "PATCH")]
        for key, value in body.items():
            if key != "claimant":
                pairs.append((key, str(value)))
        for key, value in body.get("claimant", {}).items():
            if key != "data":
                pairs.append((f"claimant[{key}]", value))
        for index, item in enumerate(body.get("claimant", {}).get("data", [])):
            pairs += [(f"claimant[data][{index}][{key}]", value) for key, value in item.items()]
        return urlencode(pairs)

    def note(self, name: str, content: bytes) -> None:
        """After a request, outside its timing: a create's appointment goes to the cancels."""
        if name == "create":
            self.created.append(json.loads(content)["data"]["id"])

    @staticmethod
    def encoded(body: dict[str, Any]) -> bytes:
        return json.dumps(body).encode()

    def call(self, method: str, url: str, body: bytes | str | None, headers: dict[str, str] | None = None) -> Any:
        kwargs: dict[str, Any] = {"headers": headers} if headers else {}
        if body is not None:
            kwargs |= {"data": body, "content_type": content_type(body)}
        return getattr(self.client, method.lower())(url, **kwargs)


def content_type(body: bytes | str | None) -> str:
    return "application/x-www-form-urlencoded" if isinstance(body, str) else "application/json"


FILTERED = "status=scheduled&sort=-appointment_at"


# Columns that differ between two writes of the same change: when it was written, and the row's own number.
_TIMES = {"history_id", "history_date", "updated_at", "created_at", "cancelled_at", "sequence", "enqueued_at",
          "run_after"}  # fmt: skip
# What a create generates at random, compared through the mapping from the floor's values to the API's.
_GENERATED = ("id", "reference", "public_token", "token", "room_url", "room_name")
_OF_CLAIMANT = "claimant_id IN (SELECT id FROM claimants_claimant WHERE appointment_id = %s)"
_TABLES = {
    "appointments_appointment": ("id = %s", "id"),
    "appointments_historicalappointment": ("id = %s", "history_id"),
    "claimants_claimant": ("appointment_id = %s", "id"),
    "claimants_historicalclaimant": ("appointment_id = %s", "history_id"),
    "claimants_claimantdata": (_OF_CLAIMANT, "field_id"),
    "claimants_historicalclaimantdata": (_OF_CLAIMANT, "history_id, field_id"),
    "meetings_meeting": ("appointment_id = %s", "id"),
    "meetings_historicalmeeting": ("appointment_id = %s", "history_id"),
    "meetings_participant": ("appointment_id = %s", "role"),
    "meetings_historicalparticipant": ("appointment_id = %s", "history_id, role"),
    "events_event": ("appointment_id = %s", "sequence"),
    "ledger_entry": ("appointment_id = %s", "sequence"),
}  # fmt: skip
# A ledger entry's time, and so its hash and the next one's link; its personal values' salt, and so their digest.
_LEDGER_DRAWN = {"id", "occurred_at", "hash", "previous_hash", "personal_digest"}


def rows_of(appointment_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the appointment's tables (time columns aside), and the tasks enqueued since the last call."""
    found: dict[str, list[dict[str, Any]]] = {}
    with connection.cursor() as cursor:
        for table, (where, order) in _TABLES.items():
            cursor.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", [appointment_id])
            names = [column.name for column in cursor.description]
            drop = _TIMES | ({"id"} if table == "events_event" else set())  # an event's id is drawn at random
            drop |= _LEDGER_DRAWN if table == "ledger_entry" else set()
            found[table] = [
                {k: json.loads(v)["values"] if k == "personal" and v else v
                 for k, v in zip(names, row, strict=True) if k not in drop}
                for row in cursor.fetchall()
            ]  # fmt: skip
        # The tasks, every column but the id and when it was enqueued; their arguments as the types of the events
        # they name (an event's id is drawn at random), and whether they carry the request's id (each its own).
        cursor.execute("SELECT * FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at")
        names = [column.name for column in cursor.description]
        found["tasks"] = []
        for row in cursor.fetchall():
            task = {k: v for k, v in zip(names, row, strict=True) if k not in ("id", "enqueued_at")}
            arguments = task.pop("args_kwargs")
            arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
            cursor.execute("SELECT type FROM events_event WHERE id = ANY(%s::uuid[])", [arguments["args"][0]])
            task["events"] = sorted(kind for (kind,) in cursor.fetchall())
            task["named"] = len(arguments["args"][0])
            task["kwargs"], task["request_id"] = arguments["kwargs"], bool(arguments.get("request_id"))
            task["keys"] = sorted(arguments)
            found["tasks"].append(task)
        cursor.execute("DELETE FROM django_tasks_database_dbtaskresult")
    return found


def _mapped(text: str, mapping: dict[str, str]) -> str:
    return re.sub("|".join(map(re.escape, sorted(mapping, key=len, reverse=True))), lambda m: mapping[m[0]], text)


FLOORS = ("/floor", "/floor-rt")  # the lean floor, and the same statements in the fewest round trips


def prove(bench: Bench) -> None:
    """Stop unless each floor answers and writes exactly what the API does."""
    for floor_prefix in FLOORS:
        prove_one(bench, floor_prefix)
    print("Proof: both floors (lean, and pipelined in the fewest round trips) answer byte for byte what the API")
    print("answers (bodies and ETags; GET, If-None-Match, the lists filtered or not, participants, events, free")
    print("times, the claimant's status poll, PATCH, POST _method=PATCH with a form, create, cancel, a guest's")
    print("invitation) and write the same rows in every table, the outbox's task row included (time columns aside;")
    print("generated values mapped first); the poll writes its heartbeat when due and not before.\n")


READS = ("GET one", "list, 15 per page", "list, 100 per page", "list, filtered+sorted", "list, every filter",
         "participants", "events", "free times")  # fmt: skip


def prove_one(bench: Bench, floor_prefix: str) -> None:
    requests = bench.requests()
    for name in READS:
        ours, floor = (bench.call(*requests[name](prefix)) for prefix in ("/api/v1", floor_prefix))
        assert ours.status_code == floor.status_code == 200, (name, ours.content[:300], floor.content[:300])
        assert ours.content == floor.content, f"{floor_prefix} {name}: the bodies differ\n{ours.content!r}"
        assert ours.get("ETag") == floor.get("ETag"), f"{floor_prefix} {name}: the ETags differ"
        assert json.loads(ours.content)["data"], f"{name}: nothing to compare"
    for name in ("GET one", "events"):
        for prefix in ("/api/v1", floor_prefix):
            path = requests[name](prefix)[1]
            response = bench.call("GET", path, None, {"If-None-Match": bench.call("GET", path, None)["ETag"]})
            assert response.status_code == 304, f"{prefix} {name}: If-None-Match did not answer 304"
    prove_poll(bench, floor_prefix)
    rows_of(bench.ids[1])  # clears the queue's rows written while setting up
    one, two, three = (f"appointments/{bench.ids[index]}" for index in (1, 2, 3))
    changes: dict[
        str, Callable[[str], tuple[str, str, bytes | str]]
    ] = {  # each by both to one appointment, rolled back
        "PATCH": lambda prefix: ("PATCH", f"{prefix}/{one}", bench.encoded(bench.patch_body(1, 7))),
        "POST _method=PATCH": lambda prefix: (
            "POST",
            f"{prefix}/{one}?_method=PATCH",
            bench.form(bench.patch_body(1, 7)),
        ),
        "cancel": lambda prefix: ("POST", f"{prefix}/{two}/cancel", b'{"cancellation_reason":"Why"}'),
        "invite a guest": lambda prefix: ("POST", f"{prefix}/{three}/guests", b'{"display_name":"G"}'),
    }
    for name, build in changes.items():
        results = []
        for prefix in ("/api/v1", floor_prefix):
            with transaction.atomic():
                method, path, body = build(prefix)
                response = bench.call(method, path, body)
                assert response.status_code in (200, 201), (prefix, name, response.content[:500])
                results.append((response, rows_of(re.findall(r"appointments/([0-9a-f-]{36})", path)[0])))
                transaction.set_rollback(True)
        (ours, our_rows), (floor, floor_rows) = results
        compare_mapped(f"{floor_prefix} {name}", ours, our_rows, floor, floor_rows)
    created = []
    for prefix in ("/api/v1", floor_prefix):
        response = bench.call("POST", f"{prefix}/appointments", bench.encoded(bench.create_body(10**6)))
        assert response.status_code == 201, response.content[:500]
        identifier = json.loads(response.content)["data"]["id"]
        created.append((response, rows_of(identifier)))
    (ours, our_rows), (floor, floor_rows) = created
    compare_mapped(f"{floor_prefix} create", ours, our_rows, floor, floor_rows)
    assert floor.get("Location"), "the floor's create names no Location"


def prove_poll(bench: Bench, floor_prefix: str) -> None:
    """The claimant's status poll: the same body and ETag for the waiting claimant, 304 on `If-None-Match`, and
    each writes the heartbeat once it is due and not before."""
    from django.utils import timezone

    from meetings.models import Participant

    claimant = Participant.objects.filter(token=bench.poll_token)
    ours, floor = (bench.call(*bench.poll(prefix)) for prefix in ("/api/v1", floor_prefix))
    assert ours.status_code == floor.status_code == 200, (ours.content[:300], floor.content[:300])
    assert ours.content == floor.content, f"{floor_prefix} status poll: the bodies differ\n{ours.content!r}"
    assert ours.get("ETag") == floor.get("ETag"), f"{floor_prefix} status poll: the ETags differ"
    assert json.loads(ours.content)["state"] == PageState.WAITING, ours.content
    for header in ("Content-Type", "Content-Language", "Vary", "Cache-Control", "Referrer-Policy", "X-Robots-Tag",
                   "Content-Security-Policy"):  # fmt: skip
        assert ours.get(header) == floor.get(header), f"{floor_prefix} status poll: {header} differs"
    for prefix in ("/api/v1", floor_prefix):
        path = bench.poll(prefix)[1]
        assert bench.call("GET", path, None, {"If-None-Match": ours["ETag"]}).status_code == 304, prefix
        just_seen = timezone.now() - timedelta(seconds=1)
        claimant.update(last_seen_at=just_seen)
        bench.call("GET", path, None)
        assert claimant.get().last_seen_at == just_seen, f"{prefix}: a heartbeat written before it was due"
        stale = timezone.now() - heartbeat_every() - timedelta(seconds=1)
        claimant.update(last_seen_at=stale)
        bench.call("GET", path, None)
        seen = claimant.get().last_seen_at
        assert seen is not None, f"{prefix}: the heartbeat was cleared"
        assert seen > stale, f"{prefix}: the heartbeat due was not written"


def compare_mapped(what: str, ours: Any, our_rows: Rows, floor: Any, floor_rows: Rows) -> None:
    """The same status, body, ETag, Location and rows, once the values the floor drew at random (ids, tokens,
    references, a create's time) are mapped to the API's."""
    mapping: dict[str, str] = {}
    for table, rows in floor_rows.items():
        for floor_row, our_row in zip(rows, our_rows[table], strict=True):
            for column in (*_GENERATED, "appointment_id", "claimant_id"):
                if column in floor_row and floor_row[column] is not None:
                    for form in (str, lambda v: v.hex if isinstance(v, uuid.UUID) else str(v)):
                        if form(floor_row[column]) != form(our_row[column]):
                            mapping[form(floor_row[column])] = form(our_row[column])
    floor_data, our_data = json.loads(floor.content)["data"], json.loads(ours.content)["data"]
    for moment in ("created_at", "cancelled_at"):  # when it was written
        if floor_data.get(moment) is not None and floor_data[moment] != our_data[moment]:
            mapping[floor_data[moment]] = our_data[moment]

    def mapped(text: str) -> str:
        return _mapped(text, mapping) if mapping else text

    assert floor.status_code == ours.status_code, f"{what}: the statuses differ"
    assert mapped(floor.content.decode()) == ours.content.decode(), (
        f"{what}: the bodies differ\n{ours.content.decode()}\n{floor.content.decode()}"
    )
    if not mapping:  # a body with drawn values has its own digest
        assert floor.get("ETag") == ours.get("ETag"), f"{what}: the ETags differ"
    assert mapped(floor.get("Location") or "") == (ours.get("Location") or ""), f"{what}: the Locations differ"
    for table in our_rows:
        ours_shown, floor_shown = (
            pprint.pformat(our_rows[table], width=100),
            pprint.pformat(floor_rows[table], width=100),
        )
        assert mapped(repr(floor_rows[table])) == repr(our_rows[table]), (
            f"{what}: rows of {table} differ:\n"
            + "\n".join(
                difflib.unified_diff(
                    ours_shown.splitlines(), mapped(floor_shown).splitlines(), "API", "floor", lineterm=""
                )
            )
        )


Rows = dict[str, list[dict[str, Any]]]


SIDES = ("/api/v1", *FLOORS)


def _orders(round_number: int) -> tuple[str, ...]:
    """The sides in a round's order, rotated each round so none is always first (or after the same one)."""
    shift = round_number % len(SIDES)
    return SIDES[shift:] + SIDES[:shift]


Timed = dict[str, dict[str, float]]


def in_process(bench: Bench, rounds: int) -> tuple[Timed, dict[str, dict[str, int]]]:
    """Per endpoint and side: the median (ms), and the statements of one request (BEGIN and COMMIT included)."""
    from django.test.utils import CaptureQueriesContext

    requests = bench.requests()
    times: dict[str, dict[str, list[float]]] = {name: {side: [] for side in SIDES} for name in requests}
    for round_number in range(rounds + 20):  # the first 20 warm up
        for name, build in requests.items():
            for prefix in _orders(round_number):
                request = build(prefix)
                started = time.perf_counter()
                response = bench.call(*request)
                elapsed = time.perf_counter() - started
                assert response.status_code in (200, 201), (prefix, name, response.content[:300])
                bench.note(name, response.content)
                if round_number >= 20:
                    times[name][prefix].append(elapsed * 1000)
    counts: dict[str, dict[str, int]] = {}
    for name, build in requests.items():
        counts[name] = {}
        for prefix in SIDES:
            with CaptureQueriesContext(connection) as queries:
                response = bench.call(*build(prefix))
            assert response.status_code in (200, 201), (prefix, name, response.content[:300])
            bench.note(name, response.content)
            counts[name][prefix] = len(queries)
    rows_of(bench.ids[0])
    return {name: {side: statistics.median(ts) for side, ts in by.items()} for name, by in times.items()}, counts


def over_http(bench: Bench, port: int, rounds: int) -> Timed:
    requests = bench.requests()
    headers = {"Authorization": f"Bearer {bench.token}", "Host": "127.0.0.1", "Cookie": bench.cookie}
    times: dict[str, dict[str, list[float]]] = {name: {side: [] for side in SIDES} for name in requests}
    for round_number in range(rounds + 10):
        for name, build in requests.items():
            for prefix in _orders(round_number):
                method, url, body = build(prefix)
                started = time.perf_counter()
                client = http.client.HTTPConnection("127.0.0.1", port)
                sent = body.encode() if isinstance(body, str) else body
                client.request(method, url, body=sent, headers=headers | {"Content-Type": content_type(body)})
                response = client.getresponse()
                content = response.read()
                client.close()
                elapsed = time.perf_counter() - started
                assert response.status in (200, 201), (name, prefix, response.status, content[:300])
                bench.note(name, content)
                if round_number >= 10:
                    times[name][prefix].append(elapsed * 1000)
    return {name: {side: statistics.median(ts) for side, ts in by.items()} for name, by in times.items()}


def report(title: str, timed: Timed, counts: dict[str, dict[str, int]] | None = None) -> list[tuple[float, str]]:
    """Prints the table; returns (ratio to the lean floor, what) per row."""
    print(title)
    print(f"  {'request':<20} {'API ms':>8} {'lean ms':>8} {'pipelined':>9} {'API/lean':>8} {'API/pipel.':>10}"
          + ("   statements: API / lean / pipelined" if counts else ""))  # fmt: skip
    ratios = []
    for name, by in timed.items():
        ours, lean, piped = (by[side] for side in SIDES)
        line = f"  {name:<20} {ours:8.2f} {lean:8.2f} {piped:9.2f} {ours / lean:7.2f}x {ours / piped:9.2f}x"
        if counts:
            line += "   " + " / ".join(str(counts[name][side]) for side in SIDES)
        print(line)
        ratios.append((ours / lean, f"{title.split(' ')[0]} {name}"))
    return ratios


_WRK_SCRIPT = """
local ids = {%(ids)s}
local items = {%(items)s}
local when = {"%(when0)s", "%(when1)s"}
local phones = {"%(phone0)s", "%(phone1)s"}
local counter = 0
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
local thread_count = 0
function setup(thread)
  thread:set("offset", thread_count * 100003)
  thread_count = thread_count + 1
end
function init(args)
  counter = offset
end
function request()
  counter = counter + 1
  local i = counter %% #ids + 1
  local body = string.format(
    '{"appointment_at":"%%s","duration_in_minutes":%%d,"claimant":{"phone_number":"%%s","data":[{"id":"%%s","value":"W-%%d"}]}}',
    when[counter %% 2 + 1], 30 + counter %% 2, phones[counter %% 2 + 1], items[i], counter)
  return wrk.format("PATCH", "%(prefix)s/appointments/" .. ids[i], headers, body)
end
"""


def throughput(bench: Bench, port: int, prefix: str, seconds: int) -> tuple[float, str]:
    """PATCHes per second over `seconds` with wrk (2 threads, 8 connections), and wrk's count of non-2xx."""
    count = len(bench.ids) - (len(bench.ids) + 1) % 2  # odd: a connection's next visit flips every value
    quoted = ", ".join(f'"{pk}"' for pk in bench.ids[:count])
    script = _WRK_SCRIPT % {
        "ids": quoted, "items": ", ".join(f'"{pk}"' for pk in bench.items[:count]), "when0": WHEN[0],
        "when1": WHEN[1], "phone0": PHONES[0], "phone1": PHONES[1], "token": bench.token, "prefix": prefix,
    }  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(  # noqa: S603 (wrk from the system, arguments we build)
        [shutil.which("wrk") or "wrk", "-t2", "-c8", f"-d{seconds}s", "-s", handle.name, f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, failed[1] if failed else "0"


def main() -> None:
    from tests.support import gunicorn, throwaway_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300, help="requests per endpoint and side, in-process")
    parser.add_argument("--http-rounds", type=int, default=150, help="requests per endpoint and side, over HTTP")
    parser.add_argument("--seconds", type=int, default=15, help="wrk's duration for each side")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers (production: 2 x cores + 1)")
    parser.add_argument(
        "--proof-only", action="store_true", help="prove the floor and the API alike, time nothing (CI runs this)"
    )
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "the floor is hand-written for PostgreSQL: set DATABASE_URL"
    with throwaway_database("bench_floor") as env:
        bench = Bench(count=201)
        prove(bench)
        if args.proof_only:
            print("The floor and the API answer and write alike (proof only, nothing timed).")
            return
        timed, counts = in_process(bench, args.rounds)
        ratios = report(f"In-process (Django's test client), {args.rounds} requests each side, interleaved, medians:",
                        timed, counts)  # fmt: skip
        connection.close()
        server_env = env | {
            "PYTHONPATH": str(ROOT / "bench"),
            "API_RATE_LIMIT": f"{RATE_PER_MINUTE}/min",
            "PUBLIC_PAGE_RATE_PER_MINUTE": str(RATE_PER_MINUTE),
        }
        with gunicorn(server_env, workers=args.workers, app="floor:application") as port:
            timings = over_http(bench, port, args.http_rounds)
            ratios += report(
                f"\nHTTP (gunicorn, {args.workers} sync workers), {args.http_rounds} requests each side, medians:",
                timings,
            )
            if shutil.which("wrk") is None:
                print("\nThroughput skipped: wrk is not installed (apt-get install wrk).")
            else:
                rates = {side: throughput(bench, port, side, args.seconds) for side in SIDES}
                print(f"\nPATCH throughput, wrk 2 threads 8 connections {args.seconds} s each, {args.workers} workers:")
                for side, (rate, failed) in rates.items():
                    print(f"  {side:<10} {rate:7.1f}/s  (non-2xx: {failed})")
                print(f"  API / lean floor {rates['/api/v1'][0] / rates['/floor'][0]:.2f}")
        worst = max(ratios)
        print(f"\nWorst ratio to the lean floor: {worst[0]:.2f}x ({worst[1].strip()})")


if __name__ == "__main__":
    main()
