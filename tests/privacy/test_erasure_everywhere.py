"""Issue 21's "done when": a claimant with three appointments, each changed several times, messaged, sent by webhook
(deliveries failing, the receiver echoing what it got), their identity check locked and unlocked, their page
visited; then erased. A scan of every column of every table (and a pg_dump of the database) finds none of their
values; the dashboard's numbers are unchanged; each receipt counts exactly the rows its erasure changed; the access
export held every value the scan found before. Every log line of the journey, captured at DEBUG, is searched for
the claimant's values and the tokens (issue 21.5)."""

import http.server
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client

from appointments.dashboard import week_summary
from appointments.models import Appointment, Department
from config.logs import JsonFormatter, RequestId, TextFormatter
from desk.notes import note_add
from meetings.identity import participant_check_identity, participant_unlock_identity
from meetings.models import Participant, Role
from privacy.erasure import appointment_erase
from privacy.export import personal_data_export
from tests.factories import a_browser, in_days
from tests.helpers import postgres_only, run_command, run_tasks
from tests.support import Persona, persona
from webhooks.models import Attempt, Endpoint

NAME, EMAIL, DOB = "Winifred Quaintance", "winifred.q@example.org", date(1961, 7, 14)
PHONE = "+447723456789"
# Every form a value may be written in: the phone as stored (E.164), as typed and as a message might write it.
PHONE_FORMS = ("+447723456789", "447723456789", "07723 456789", "07723456789", "+44 7723 456789")
DOB_FORMS = ("1961-07-14", "14/07/1961", "14 July 1961")
Rows = dict[str, dict[Any, tuple[Any, ...]]]
VALUES = (NAME, "Quaintance", EMAIL, *PHONE_FORMS, *DOB_FORMS, "WQ-CASE-77")


class EchoReceiver:
    """A webhook receiver that fails every first delivery and answers each request with what it received."""

    def __init__(self) -> None:
        seen: set[str] = set()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                first = self.headers["webhook-id"] not in seen
                seen.add(self.headers["webhook-id"])
                self.send_response(500 if first else 200)
                self.end_headers()
                self.wfile.write(b"got: " + body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Lines(logging.Handler):
    """Every record of every logger, at DEBUG, as each of the service's formats writes it (text and JSON, with the
    request id: config.logs), tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []
        self.formats = (TextFormatter(), JsonFormatter())
        self.addFilter(RequestId())

    def emit(self, record: logging.LogRecord) -> None:
        self.records += [form.format(record) for form in self.formats]


@pytest.fixture
def every_line() -> Iterator[Lines]:
    lines = Lines()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    before = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(lines)
        logger.setLevel(logging.DEBUG)
    yield lines
    for logger, level in before:
        logger.removeHandler(lines)
        logger.setLevel(level)


def scan(values: tuple[str, ...]) -> dict[str, set[str]]:
    """Where each value is, in every column of every table: `table.column` -> the values found there."""
    found: dict[str, set[str]] = {}
    wanted = [value.casefold() for value in values]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (the database's own table names)
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = str(value).casefold() if value is not None else ""
                    for original, value_ in zip(values, wanted, strict=True):
                        if value_ in text:
                            found.setdefault(f"{table}.{column}", set()).add(original)
    return found


def snapshot() -> Rows:
    """Every row of every table by its primary key."""
    rows: Rows = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            keys = connection.introspection.get_primary_key_columns(cursor, table) or []
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            columns = [column[0] for column in cursor.description]
            at = [columns.index(key) for key in keys]
            rows[table] = {tuple(row[i] for i in at): tuple(map(str, row)) for row in cursor.fetchall()}
    return rows


def changed(
    before: dict[str, dict[Any, tuple[Any, ...]]], after: dict[str, dict[Any, tuple[Any, ...]]]
) -> dict[str, int]:
    """The rows of each table that existed before and are changed or gone after."""
    counts = {}
    for table, rows in before.items():
        n = sum(1 for key, row in rows.items() if after.get(table, {}).get(key) != row)
        if n:
            counts[table] = n
    return counts


def dashboard(department: Department, appointments: list[Appointment]) -> list[dict[str, Any]]:
    zone = ZoneInfo(department.time_zone)
    weeks = [
        week_summary(Appointment.objects.filter(department=department), zone, a.appointment_at) for a in appointments
    ]
    return [
        {key: week[key] for key in ("rows", "totals", "total", "no_shows", "ended", "waits_recorded")} for week in weeks
    ]


def journey(department: Department, manager: Persona) -> tuple[list[Appointment], list[str]]:
    client = manager.client()
    tokens = [manager.token]
    appointments = []
    for n in range(3):
        body = {
            "reference": f"W-{n}",
            "appointment_at": in_days(n + 2).isoformat(),
            "duration_in_minutes": 30,
            "department_id": str(department.pk),
            "claimant": {
                "name": NAME,
                "email": EMAIL,
                "phone_number": "07723 456789",
                "date_of_birth": DOB.isoformat(),
                "data": {"Case number": "WQ-CASE-77"},
            },
        }
        created = client.post("/api/v1/appointments", body, format="json", HTTP_IDEMPOTENCY_KEY=f"create-{n}")
        assert created.status_code == 201, created.content
        appointment = Appointment.objects.get(pk=created.json()["data"]["id"])
        appointments.append(appointment)
        # Staff's internal note (issue 24.3), naming the claimant as notes do.
        note_add(appointment=appointment, text=f"Called {NAME} on 07723 456789 about WQ-CASE-77.", actor=manager.user)
        url = f"/api/v1/appointments/{appointment.pk}"
        for change in (
            {"duration_in_minutes": 45},
            {"appointment_at": in_days(n + 3).isoformat()},
            {"claimant": {"email": EMAIL.upper()}},
            {"claimant": {"email": EMAIL, "phone_number": "+44 7723 456789"}},
        ):
            assert client.patch(url, change, format="json").status_code == 200
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        tokens += [claimant.token, *Participant.objects.filter(appointment=appointment).values_list("token", flat=True)]
        starts = Appointment.objects.get(pk=appointment.pk).appointment_at
        with time_machine.travel(starts - timedelta(minutes=5), tick=False):  # inside the join window
            assert Client().get(f"/join/{claimant.token}").status_code == 200
            for _ in range(5):
                participant_check_identity(participant=claimant, browser=a_browser(), date_of_birth=date(2000, 1, 1))
            locked = Participant.objects.get(pk=claimant.pk)
            assert locked.identity_failures == 5
            participant_unlock_identity(participant=locked, actor=manager.user)
        run_tasks()
        run_tasks(until=in_days(5))  # the failed deliveries' retries
    assert Attempt.objects.filter(status_code=500).exists()
    return appointments, tokens


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_erasure_reaches_every_copy_and_nothing_personal_is_logged(settings: Any, every_line: Lines) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.SMS_BACKEND = "notifications.sms.MemoryBackend"
    from claimants.models import ClaimantDataField

    department = Department.objects.create(name="Claims")
    ClaimantDataField.objects.create(department=department, name="Case number", required=True)
    manager = persona("boss", department, group="Department managers")
    receiver = EchoReceiver()
    try:
        Endpoint.objects.create(department=department, url=receiver.url)
        appointments, tokens = journey(department, manager)
    finally:
        receiver.close()

    before = scan(VALUES)
    assert {"claimants_claimant.name", "claimants_historicalclaimant.email", "events_event.data"} <= before.keys()
    assert "ledger_entry.personal" in before
    assert "webhooks_attempt.response_body" in before
    assert "notifications_notification.recipient" in before
    assert {"desk_note.text", "desk_historicalnote.text"} <= before.keys()
    exported = " ".join(
        str(personal_data_export(appointment=a, actor=manager.user, door="api")).casefold() for a in appointments
    )
    missing = {value for values in before.values() for value in values if value.casefold() not in exported}
    assert missing == set(), f"found by the scan, not in the export: {missing}"
    numbers = dashboard(department, appointments)

    for appointment in appointments:
        rows_before = snapshot()
        erasure = appointment_erase(appointment_id=appointment.pk, actor=manager.user)
        assert changed(rows_before, snapshot()) == erasure.counts

    assert scan(VALUES) == {}
    assert scan(tuple(tokens[1:])) == {}  # the join links' old tokens are gone too
    assert dashboard(department, appointments) == numbers
    assert run_command("verify_ledger")[-1].startswith("The ledger verifies: ")  # else a CommandError (exit 1)
    dump = pg_dump()
    assert [value for value in VALUES if value.casefold() in dump.casefold()] == []

    logged = "\n".join(every_line.records).casefold()
    assert every_line.records  # the journey was logged (requests, tasks, deliveries)
    leaked = [value for value in (*VALUES, *tokens) if value.casefold() in logged]
    assert leaked == [], f"personal data or tokens in the log lines: {leaked}"


def pg_dump() -> str:
    database = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""}
    command = [
        shutil.which("pg_dump") or "pg_dump",
        "--data-only",
        "-h", database["HOST"] or "127.0.0.1",
        "-p", str(database["PORT"] or 5432),
        "-U", database["USER"] or "postgres",
        database["NAME"],
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
