"""The stateless claim, proved: two gunicorn processes on one PostgreSQL and one Redis behave as one for a
token, the rate limit, Idempotency-Key, If-Match and concurrent PATCHes of different fields."""

import http.client
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from appointments.models import Appointment
from tests.helpers import postgres_only, run_together
from tests.support import database_env, gunicorn, persona

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def redis_emptied(url: str) -> bool:
    """True when the Redis at `url` answers, once its database is emptied for this test."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as sock:
            sock.sendall(f"SELECT {parts.path.strip('/') or 0}\r\nFLUSHDB\r\n".encode())
            return sock.recv(64).startswith(b"+OK")
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    """A Redis the test may empty: TEST_REDIS_URL, never whatever happens to listen on the usual port (.ci/run
    starts one of its own on a free port and stops it at the end)."""
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url or not redis_emptied(url):
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis answers at TEST_REDIS_URL={url!r}")
        pytest.skip("needs TEST_REDIS_URL, a Redis this test may empty (.ci/run starts one)")
    return url


def call(port: int, method: str, path: str, token: str, body: Any = None, **headers: str) -> tuple[int, Any, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    sent = {"Authorization": f"Bearer {token}", **headers}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        sent["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=sent)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    return response.status, json.loads(raw) if raw else None, response


@pytest.fixture
def two(redis_url, department) -> Iterator[tuple[int, int]]:
    env = {
        **database_env(),
        "REDIS_URL": redis_url,
        "API_RATE_LIMIT": "8/min",
        "DB_CONN_MAX_AGE": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    with gunicorn(env) as first, gunicorn(env) as second:
        yield first, second


def test_two_processes_behave_as_one(two, department, appointment) -> None:
    a, b = two
    agent = persona("across", department)
    path = f"/api/v1/appointments/{appointment.pk}"

    # A token issued once works on both.
    assert call(a, "GET", path, agent.token)[0] == call(b, "GET", path, agent.token)[0] == 200

    # If-Match: an ETag read on one is stale on the other once the other changed the appointment.
    _status, _body, read = call(a, "GET", path, agent.token)
    etag = read.getheader("ETag")
    assert call(b, "PATCH", path, agent.token, {"duration_in_minutes": 20})[0] == 200
    assert call(a, "PATCH", path, agent.token, {"duration_in_minutes": 25}, **{"If-Match": etag})[0] == 412

    # Idempotency-Key: the retry on the other process replays, one appointment is made.
    before = Appointment.objects.count()
    create = {"appointment_at": "2031-03-01T09:00:00Z", "duration_in_minutes": 30,
              "claimant": {"name": "Twice Sent", "data": {"Case number": "T-1"}}}  # fmt: skip
    first = call(a, "POST", "/api/v1/appointments", agent.token, create, **{"Idempotency-Key": "k-1"})
    again = call(b, "POST", "/api/v1/appointments", agent.token, create, **{"Idempotency-Key": "k-1"})
    assert (first[0], again[0]) == (201, 201)
    assert again[2].getheader("Idempotent-Replayed") == "true"
    assert first[1]["data"]["id"] == again[1]["data"]["id"]
    assert Appointment.objects.count() == before + 1

    # Concurrent PATCHes of different fields, one through each process: neither is lost.
    other = persona("concurrent", department)
    run_together(
        [
            lambda: call(
                a, "PATCH", path, other.token, {"is_interpreter_needed": True, "interpreter_language": "Welsh"}
            ),
            lambda: call(b, "PATCH", path, other.token, {"claimant": {"phone_number": "020 7123 4567"}}),
        ]
    )
    fresh = Appointment.objects.select_related("claimant").get(pk=appointment.pk)
    assert (fresh.interpreter_language, fresh.claimant.phone_number) == ("Welsh", "+442071234567")

    # The rate limit (8 a minute per user) is counted once across both, in Redis.
    limited = persona("limited", department)
    codes = [call(port, "GET", path, limited.token)[0] for port in (a, b) * 6]
    assert codes.count(200) == 8
    assert codes[8:] == [429] * 4


def test_two_servers_on_one_host_open_no_shared_control_socket(tmp_path) -> None:
    """gunicorn's control socket is one path per user (~/.gunicorn/gunicorn.ctl): a second server took over the
    first's, and removed it when it stopped. Neither the production configuration nor the tests' servers open it."""
    home = {"HOME": str(tmp_path), "XDG_RUNTIME_DIR": ""}
    with gunicorn({**database_env(), **home}, production=True), gunicorn({**database_env(), **home}):
        assert not (tmp_path / ".gunicorn").exists()
