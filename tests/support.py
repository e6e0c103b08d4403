"""What the tests and the benchmarks (bench/) both use: the service's processes (gunicorn, the task worker) on a
free port, pointed at a database, a throwaway database, and a user with a token.

A module of its own, apart from tests/helpers.py, so a benchmark (a plain script, no pytest) imports only this
harness: no pytest, no markers decided at import, no test assertions. It lives under tests/ because it is test
code that the image must not carry (.dockerignore leaves tests/ out) and because `persona` builds on the tests'
factories; bench/ imports it and tests/factories.py, nothing else of tests/ (docs/decisions.md, issue 19.6).
"""

import contextlib
import http.client
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import setup_test_environment
from rest_framework.test import APIClient

from accounts.services import api_token_create
from appointments.management.commands.seed_demo import DEMO_AGENT, DEMO_DEPARTMENT
from appointments.models import Department
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent

# Where a started process writes its output: a file, or (None) this process's own output.
Log = IO[bytes] | IO[str] | None


@dataclass
class Persona:
    user: User
    token: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client


def persona(username: str, *departments: Department, superuser: bool = False, group: str | None = None) -> Persona:
    """A user with a bearer token, a member of the given departments (and of a staff group, if named)."""
    user = UserFactory.create(username=username, is_superuser=superuser, is_staff=superuser)
    if group is not None:
        user.groups.add(Group.objects.get(name=group))
    for department in departments:
        department.members.add(user)
    _token, secret = api_token_create(user=user, name="tests", expires_in=timedelta(days=1))
    return Persona(user=user, token=secret)


def demo_client_token() -> str:
    """The demo data of `make run` (seed_demo) and a token of its demo agent."""
    call_command("seed_demo", stdout=io.StringIO())
    agent = Department.objects.get(name=DEMO_DEPARTMENT).members.get(username=DEMO_AGENT)
    _token, secret = api_token_create(user=agent, expires_in=None)
    return secret


def server_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment with `env` over it, for a server or worker it starts: with this process's
    SECRET_KEY unless `env` gives one, so production settings (no DEBUG) start and both sign alike."""
    return {"SECRET_KEY": settings.SECRET_KEY, **os.environ, **env}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_env() -> dict[str, str]:
    """The environment that points a child process (a server, a worker) at this test run's database.

    On SQLite only a database in a file can be shared (a throwaway database, the suite's test database, which
    config/settings makes a file of the run); one in this process's memory cannot be reached from another."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError(
                "SQLite's test database is in this process's memory: no other process can share it "
                "(mark the test shared_database_only, or give the process a database of its own)"
            )
        return {"DATABASE_URL": f"sqlite:///{Path(name).resolve()}"}
    source = urlsplit(os.environ.get("DATABASE_URL", ""))
    return {"DATABASE_URL": urlunsplit(source._replace(path="/" + name))}


def empty_database_env(directory: Path) -> dict[str, str]:
    """The environment that gives a child process a database of its own (an empty SQLite file in `directory`), for
    a server whose test reads none of the test's rows: it starts the same on PostgreSQL and on SQLite runs."""
    return {"DATABASE_URL": f"sqlite:///{directory / 'empty.sqlite3'}"}


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], workers: int = 1, app: str = "config.wsgi", *, production: bool = False, log: Log = None
) -> Iterator[int]:
    """The service under gunicorn (sync workers) on a free port, with `env` over this process's environment;
    yields the port once /health/live answers, and stops it afterwards. Used by tests and benchmarks (which may
    serve their own WSGI `app`). `production` runs it with config/gunicorn.conf.py (its logging included); `log`
    is a file for everything it writes (otherwise this process's output)."""
    port = free_port()
    # Without the conf file, what it says about the control socket (one path per user, shared by every server).
    options = ["-c", "config/gunicorn.conf.py"] if production else ["--log-level", "warning", "--no-control-socket"]
    process = subprocess.Popen(  # noqa: S603 (our own server, arguments we build)
        [str(Path(sys.executable).with_name("gunicorn")), app, *options, "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=server_env(env), stdout=log, stderr=log,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health/live")
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        # gunicorn lets its workers finish for up to its graceful timeout (30 s); on a loaded machine an idle
        # worker's exit took longer than 15 s, failing a test that had passed.
        process.wait(timeout=45)


def start_db_worker(env: dict[str, str], log: Log = None) -> subprocess.Popen[bytes]:
    """`manage.py db_worker`, the task worker, as production runs it, started (the caller stops it). Its log (a
    line per task) goes to the file `log`, or nowhere: a pipe nobody reads would fill up and stop it."""
    output = log if log is not None else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        cwd=ROOT, env=server_env(env), stdout=output, stderr=output,
    )  # fmt: skip


@contextlib.contextmanager
def db_worker(env: dict[str, str], log: Log = None) -> Iterator[subprocess.Popen[bytes]]:
    """The task worker (start_db_worker) for the block; stopped with SIGTERM (graceful)."""
    process = start_db_worker(env, log)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def throwaway_database(name: str) -> Iterator[dict[str, str]]:
    """A database of a benchmark's own, created empty and migrated, dropped afterwards (never the suite's
    test_<name>, which autoclobber would otherwise drop); yields the environment that points a server at it.
    On SQLite it is the file `name` (in the working directory), which a server or worker can share."""
    setup_test_environment()
    if connection.vendor == "postgresql":  # one server for every worktree: a name of this database's own
        name = f"{name}_{connection.settings_dict['NAME']}"
    connection.settings_dict["TEST"] = {**connection.settings_dict.get("TEST", {}), "NAME": name}
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield database_env()
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
