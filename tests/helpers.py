"""Helpers shared by test modules (fixtures stay in conftest.py; no test module imports conftest)."""

import contextlib
import http.client
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_token_create
from appointments.models import Appointment, Department
from claimants.models import ClaimantData
from meetings.models import Meeting
from tests.factories import UserFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite has no row locks, so concurrent writers cannot be tested on it",
)


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Start every job at the same instant in its own thread (own connection); re-raise what any raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@dataclass
class Persona:
    user: Any
    token: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client


def persona(username: str, *departments: Department, superuser: bool = False) -> Persona:
    """A user with a bearer token, a member of the given departments."""
    user = UserFactory.create(username=username, is_superuser=superuser, is_staff=superuser)
    for department in departments:
        department.members.add(user)
    _token, secret = api_token_create(user=user, name="tests", expires_in=timedelta(days=1))
    return Persona(user=user, token=secret)


def demo_client_token() -> str:
    """The demo data of `make run` (seed_demo) and a token of its demo agent."""
    from appointments.management.commands.seed_demo import DEMO_AGENT, DEMO_DEPARTMENT

    call_command("seed_demo", stdout=io.StringIO())
    agent = Department.objects.get(name=DEMO_DEPARTMENT).members.get(username=DEMO_AGENT)
    _token, secret = api_token_create(user=agent, expires_in=None)
    return secret


def patch_url(appointment: Appointment, query: str = "") -> str:
    return f"/api/v1/appointments/{appointment.pk}{query}"


def snapshot(appointment: Appointment) -> dict[str, Any]:
    """Every stored value of the appointment and its parts, to prove a request changed nothing."""
    fresh = Appointment.objects.get(pk=appointment.pk)
    rows: dict[str, Any] = {f.attname: getattr(fresh, f.attname) for f in Appointment._meta.concrete_fields}
    claimant = fresh.claimant
    rows["claimant"] = {f.attname: getattr(claimant, f.attname) for f in type(claimant)._meta.concrete_fields}
    rows["data"] = sorted((str(d.pk), str(d.field_id), d.value) for d in ClaimantData.objects.filter(claimant=claimant))
    meeting = Meeting.objects.get(appointment=fresh)
    rows["meeting"] = (meeting.pk, meeting.room_url, meeting.start_date, meeting.end_date)
    return rows


def data_item(appointment: Appointment, name: str) -> ClaimantData:
    return ClaimantData.objects.get(claimant__appointment=appointment, field__name=name)


def run_command(*args: str) -> list[str]:
    """A management command's output lines."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


PASSWORD = "correct horse battery staple"


def staff(username: str, *departments: Department, group: str = "Agents", superuser: bool = False) -> Any:
    user = UserFactory.create(username=username, is_staff=True, is_superuser=superuser)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=group))
    for department in departments:
        department.members.add(user)
    return user


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 1) -> Iterator[int]:
    """The service under gunicorn (sync workers) on a free port, with `env` over this process's environment;
    yields the port once /health/live answers, and stops it afterwards. Used by tests and benchmarks."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own server, arguments we build)
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env},
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
        process.wait(timeout=15)
