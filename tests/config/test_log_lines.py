"""Every line the processes write, read as an operator's log collector reads it: gunicorn with the production
config and the task worker, each a real process. One JSON shape for every line, the request's id carried into the
worker's lines for the tasks the request enqueued (issue 18.22), and no claimant's private link in any line
(issue 18.5)."""

import http.client
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Q
from django_tasks_db.models import DBTaskResult, get_date_max

from ledger.digest import digest_take
from meetings.models import Participant, Role
from meetings.services import participant_invite_guest
from privacy.retention import retention_requeue
from tests.helpers import postgres_only, run_tasks, wait_for
from tests.support import database_env, db_worker, gunicorn, persona

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

SHAPE = {"timestamp", "level", "logger", "request_id", "message"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def request(port: int, method: str, path: str, body: Any = None, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the file as JSON; a line that is not JSON fails the test, naming it."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def due_tasks_left() -> bool:
    due = Q(run_after=get_date_max()) | Q(run_after__lte=datetime.now(UTC))
    return DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).filter(due).exists()


def test_every_line_is_one_json_shape_and_the_worker_carries_the_requests_id(
    tmp_path: Path, department, appointment
) -> None:
    agent = persona("logged", department)
    env = {**database_env(), "LOG_FORMAT": "json", "ALLOWED_HOSTS": "127.0.0.1", "DB_CONN_MAX_AGE": "0"}
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    given = str(uuid.uuid4())
    # The day's own work that the worker's sweep would otherwise enqueue (the ledger's digest, the retention run)
    # is done or waiting first: the tasks counted below are the PATCH's and what they enqueued, nothing else.
    digest_take()
    retention_requeue()
    run_tasks()  # the fixtures' tasks (and those they enqueue), so every task left is one the PATCH caused
    earlier = set(DBTaskResult.objects.values_list("id", flat=True))
    with web_log.open("w") as web_out, gunicorn(env, production=True, log=web_out) as port:
        changed = request(
            port, "PATCH", f"/api/v1/appointments/{appointment.pk}", {"duration_in_minutes": 45},
            Authorization=f"Bearer {agent.token}", **{"X-Request-ID": given},
        )  # fmt: skip
        assert changed.status == 200
        assert request(port, "GET", "/api/v1/appointments/unknown", Authorization=f"Bearer {agent.token}").status == 404
        assert request(port, "GET", "/health/live").status == 200
    caused = DBTaskResult.objects.exclude(id__in=earlier)
    assert caused.filter(task_path__endswith="events_dispatch").exists()
    with worker_log.open("w") as worker_out, db_worker(env, log=worker_out):
        wait_for(lambda: not due_tasks_left(), 60, "the worker ran the tasks the change enqueued")

    web, worker = json_lines(web_log), json_lines(worker_log)
    for line in web + worker:
        assert set(line) >= SHAPE, line
        assert TIMESTAMP.match(line["timestamp"]), line
    loggers = {line["logger"] for line in web}
    assert {"gunicorn.error", "gunicorn.access", "django.request"} <= loggers  # gunicorn's own lines too
    access = next(line for line in web if line["logger"] == "gunicorn.access" and line["request_id"] == given)
    path = f"/api/v1/appointments/{appointment.pk}"
    assert (access["method"], access["path"], access["status"]) == ("PATCH", path, 200)
    # Every task the PATCH caused (its events' dispatch, and the messages that enqueued in turn), from its
    # "RUNNING" line to its "SUCCESSFUL" one, and what it logged in between, carries the PATCH's id.
    ids = {str(pk) for pk in caused.values_list("id", flat=True)}
    ran = caused.filter(status="SUCCESSFUL").count()  # the rest are scheduled for later (reminders, checks)
    assert ran >= 2
    running = False
    for line in worker:
        task_id = re.search(r"Task id=(\S+)", line["message"])
        if task_id and task_id.group(1) in ids:
            running = "state=RUNNING" in line["message"]
            assert line["request_id"] == given, line
        elif running:
            assert line["request_id"] == given, line
        else:
            assert line["request_id"] is None, line  # the worker's own lines
    assert sum(given == line["request_id"] for line in worker) >= 2 * ran


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_line_carries_a_private_link(tmp_path: Path, department, appointment, agent, log_format: str) -> None:
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
    unknown = "u" * 32
    env = {**database_env(), "LOG_FORMAT": log_format, "ALLOWED_HOSTS": "127.0.0.1", "DB_CONN_MAX_AGE": "0"}
    log = tmp_path / "web.log"
    with log.open("w") as out, gunicorn(env, production=True, log=out) as port:
        assert request(port, "GET", f"/join/{claimant.token}").status == 200
        assert request(port, "GET", f"/join/{guest.token}/status").status in (200, 304)
        assert request(port, "GET", f"/join/{unknown}").status == 404  # django.request's "Not Found" warning
        assert request(port, "POST", f"/join/{guest.token}/consent").status == 403  # no CSRF token: a warning
    written = log.read_text()
    for token in (claimant.token, guest.token, unknown):
        assert token not in written
    assert written.count("/join/[redacted]") >= 6  # the access lines and the warnings were written, redacted
