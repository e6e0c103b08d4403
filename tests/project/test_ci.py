"""CI runs on a shared host: two runs at once (two clones, two branches) must not share a database or a Redis, and
each removes what it made, even when it fails. .ci/run takes its services from .ci/services.sh; this drives it."""

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or shutil.which("redis-server") is None,
    reason="needs PostgreSQL and redis-server, as .ci/run has them",
)

# A CI run in miniature: its database and its Redis, what it was given, then a failure once told to go on.
SCRIPT = """
set -euo pipefail
source .ci/services.sh
ci_database
ci_redis
echo "$DATABASE_URL $TEST_REDIS_URL"
read -r _
exit 3
"""


def server(sql: str, *params: str) -> list[tuple]:
    """A statement on the PostgreSQL server itself (its `postgres` database), outside the suite's test database."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres", autocommit=True
    ) as conn:
        cursor = conn.execute(sql.encode(), params)
        return cursor.fetchall() if cursor.description else []


def database_exists(name: str) -> bool:
    return bool(server("SELECT 1 FROM pg_database WHERE datname = %s", name))


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_two_runs_at_once_have_their_own_database_and_redis_and_remove_them_when_they_fail_or_stop() -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TEST_REDIS_URL")}
    pipe = subprocess.PIPE
    runs = [
        subprocess.Popen([BASH, "-c", SCRIPT], cwd=ROOT, env=env, text=True, stdin=pipe, stdout=pipe, stderr=pipe)  # noqa: S603
        for _ in range(2)
    ]
    try:
        given = []
        for run in runs:
            assert run.stdout is not None
            line = run.stdout.readline().split()
            assert len(line) == 2, run.stderr.read() if run.stderr else ""
            given.append(line)
        databases = [url.rsplit("/", 1)[1] for url, _ in given]
        ports = [int(redis.rsplit(":", 1)[1].split("/")[0]) for _, redis in given]
        assert databases[0] != databases[1]
        assert ports[0] != ports[1]
        assert 6379 not in ports
        assert all(database_exists(name) for name in databases)
        assert all(redis_answers(port) for port in ports)
        # What the suite makes from a run's database (pytest-django's test_<name>) goes with it.
        server(f'CREATE DATABASE "test_{databases[0]}"')
    finally:
        # One fails; the other is stopped as a CI runner stops a job that ran over its time.
        runs[1].send_signal(signal.SIGTERM)
        runs[0].communicate("go\n", timeout=60)
        runs[1].communicate(timeout=60)
    assert runs[0].returncode == 3  # the run's own failure is what it exits with, not the clean-up's
    assert runs[1].returncode == 143
    assert not any(database_exists(name) for name in databases)
    assert not database_exists(f"test_{databases[0]}")
    assert not any(redis_answers(port) for port in ports)


def test_ci_stops_when_postgresql_cannot_be_reached() -> None:
    """Never a quiet fall-back to SQLite: a PostgreSQL that does not answer fails the run."""
    env = {**os.environ, "CI_PGPORT": "1"}  # nothing listens there, and pg_ctlcluster cannot start one there
    result = subprocess.run(  # noqa: S603 (our own script)
        [BASH, "-c", "set -euo pipefail; source .ci/services.sh; CI_PG_WAIT=1 ci_postgres; echo reached"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "reached" not in result.stdout
    assert "will not fall back to SQLite" in result.stderr
