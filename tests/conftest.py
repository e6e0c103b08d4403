"""Personas and clients shared by the suite.

Personas: an agent of a department, an agent of another department, and a superuser, each with a bearer
token. `REQUIRE_POSTGRESQL=1` (set by .ci/run) makes the run fail instead of quietly testing SQLite.
"""

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.services import api_token_create
from appointments.models import Appointment, Department
from claimants.models import FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, UserFactory, make_appointment

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


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql() -> None:
    if os.environ.get("REQUIRE_POSTGRESQL") == "1" and connection.vendor != "postgresql":
        pytest.exit(f"REQUIRE_POSTGRESQL=1 but the tests run on {connection.vendor}", returncode=1)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@dataclass
class Persona:
    user: Any
    token: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client


def persona(username: str, *departments: Department, superuser: bool = False) -> Persona:
    user = UserFactory.create(username=username, is_superuser=superuser, is_staff=superuser)
    for department in departments:
        department.members.add(user)
    _token, secret = api_token_create(user=user, name="tests", expires_in=timedelta(days=1))
    return Persona(user=user, token=secret)


@pytest.fixture
def department(db: None) -> Department:
    """A department collecting a required string 'Case number' and an optional date 'Incident date'."""
    dept = DepartmentFactory.create(name="Claims")
    fields = ClaimantDataFieldFactory
    fields.create(department=dept, name="Case number", type=FieldType.STRING, required=True, position=0)
    fields.create(department=dept, name="Incident date", type=FieldType.DATE, required=False, position=1)
    return dept


@pytest.fixture
def other_department(db: None) -> Department:
    return DepartmentFactory.create(name="Elsewhere")


@pytest.fixture
def agent(department: Department) -> Persona:
    return persona("agent", department)


@pytest.fixture
def other_agent(other_department: Department) -> Persona:
    return persona("other-agent", other_department)


@pytest.fixture
def superuser(db: None) -> Persona:
    return persona("root", superuser=True)


@pytest.fixture
def appointment(department: Department) -> Appointment:
    return make_appointment(
        department,
        claimant={
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone_number": "+447911123456",
            "date_of_birth": None,
            "data": {"Case number": "CASE-1"},
        },
    )


@pytest.fixture
def api(agent: Persona) -> APIClient:
    return agent.client()
