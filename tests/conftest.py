"""Fixtures shared by the suite (helpers that tests import live in tests/helpers.py).

Personas: an agent of a department, an agent of another department, and a superuser, each with a bearer
token. `REQUIRE_POSTGRESQL=1` (set by .ci/run) makes the run fail instead of quietly testing SQLite. Passwords
are hashed with a fast hasher: the suite tests what it does with them, not the hashing.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from appointments.models import Appointment, Department
from claimants.models import FieldType
from config.history import history_drift
from config.translations import compile_catalogues
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, make_appointment
from tests.support import Persona, persona


def pytest_sessionstart(session: pytest.Session) -> None:
    # The Welsh pages need the compiled catalogue: built here when a .po is newer than its .mo (config/translations.py),
    # so a test run straight after editing the Welsh texts reads them.
    compile_catalogues()


# The tests run as production does (no DEBUG), which needs a SECRET_KEY: a test-only one unless one is given. The
# settings were read before this file, so the key goes on them too; the servers and workers the tests start take it
# from the environment.
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-never-used-outside-the-test-suite-5c1f0e7a9b2d")
settings.SECRET_KEY = os.environ["SECRET_KEY"]


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql() -> None:
    if os.environ.get("REQUIRE_POSTGRESQL") == "1" and connection.vendor != "postgresql":
        pytest.exit(f"REQUIRE_POSTGRESQL=1 but the tests run on {connection.vendor}", returncode=1)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _every_tracked_row_is_its_latest_history(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that uses the database, each tracked row equals its latest history row (issue 19.3): a
    write that bypassed the one history writer fails the test that made it. The test's database fixture is set up
    here first, so it is torn down after this check: before the rollback (db) or the flush (transactional_db,
    live_server, django_db(transaction=True)), with what the test and any server or worker it ran committed."""
    names = request.fixturenames
    uses = None
    if "transactional_db" in names or "live_server" in names:
        uses = "transactional_db"
    elif "db" in names or request.node.get_closest_marker("django_db") is not None:
        uses = "db"  # with a django_db marker, `db` is the marker's database (transaction=True or not)
    if uses is None or request.node.get_closest_marker("history_unchecked") is not None:
        yield
        return
    request.getfixturevalue(uses)
    yield
    drift = history_drift()
    assert not drift, f"rows written without their history row (write them through config.history): {drift}"


@pytest.fixture
def sms_outbox(settings: Any) -> Iterator[list[tuple[str, str]]]:
    """Text messages kept by notifications.sms.MemoryBackend for the test (number, text), none before or after."""
    from notifications.sms import MemoryBackend

    settings.SMS_BACKEND = "notifications.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


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
