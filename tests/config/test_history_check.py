"""The history check after every test (tests/conftest.py, issue 19.3) can fail: a row written around the one
history writer (config.history) is named, on every kind of database fixture, on PostgreSQL and on SQLite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appointments.models import Appointment
from claimants.models import Claimant, ClaimantData
from config.history import history_copy, history_drift, tracked_models
from desk.models import Note
from meetings.models import Meeting, Participant, Role
from tests.factories import UserFactory, make_appointment
from tests.helpers import postgres_only

ROOT = Path(__file__).resolve().parents[2]


def test_every_tracked_model_is_checked() -> None:
    assert set(tracked_models()) == {Appointment, Claimant, ClaimantData, Meeting, Participant, Note}


@pytest.mark.history_unchecked
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Appointment, {"duration_in_minutes": 45}),
        (Claimant, {"name": "Bypassed"}),
        (ClaimantData, {"value": "bypassed"}),
        (Meeting, {"room_name": "bypassed"}),
        (Participant, {"display_name": "Bypassed"}),
    ],
)
def test_a_bare_update_is_named_until_its_history_is_copied(department, model, values) -> None:
    appointment = make_appointment(department)
    assert history_drift() == {}
    row = model.objects.filter(**({"pk": appointment.pk} if model is Appointment else {})).order_by("pk").first()
    model.objects.filter(pk=row.pk).update(**values)
    assert history_drift() == {model.__name__: [row.pk]}
    history_copy(model, [row.pk], None)
    assert history_drift() == {}


@pytest.mark.history_unchecked
@pytest.mark.django_db
def test_the_agent_assignment_as_it_was_is_named(department) -> None:
    """Today's defect, as it was: the agent's participant moved with a bare `.update()`."""
    appointment = make_appointment(department)
    agent = Participant.objects.get(appointment=appointment, role=Role.AGENT)
    Participant.objects.filter(pk=agent.pk).update(user=UserFactory.create())
    assert history_drift() == {"Participant": [agent.pk]}


def _probe(env: dict[str, str]) -> str:
    """Run tests/config/history_probe.py in a pytest of its own; its output."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/config/history_probe.py", "-p", "no:randomly", "-p", "no:cacheprovider",
         "--tb=line"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return run.stdout + run.stderr


def _assert_each_probe_fails(output: str) -> None:
    """Each probe passes its own body and errors at teardown, in the check, naming the participant it wrote."""
    for name in ("with_db", "with_a_transactional_marker", "with_transactional_db", "with_live_server"):
        assert f"ERROR tests/config/history_probe.py::test_{name}" in output
    named = [line for line in output.splitlines() if "rows written without their history row" in line]
    assert len([line for line in named if "{'Participant': [UUID(" in line]) >= 4
    assert "4 passed, 4 errors" in output


def test_the_check_fails_each_kind_of_test_on_sqlite() -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REQUIRE_POSTGRESQL")}
    _assert_each_probe_fails(_probe(env))


@postgres_only
def test_the_check_fails_each_kind_of_test_on_postgresql() -> None:
    url = os.environ["DATABASE_URL"]
    # A database name of its own: pytest-django's test_<name> would otherwise be this run's own test database.
    _assert_each_probe_fails(_probe({**os.environ, "DATABASE_URL": url.rsplit("/", 1)[0] + "/history_probe"}))


def test_no_application_module_writes_history_a_third_way() -> None:
    """simple-history's bulk helpers build history rows from the instances, beside the copy config.history makes
    from the rows: one writer (docs/decisions.md, issue 19.3)."""
    skipped = {".venv", "tests", "bench", "migrations", "node_modules", ".git"}
    modules = [path for path in ROOT.rglob("*.py") if not skipped & set(path.relative_to(ROOT).parts)]
    assert len(modules) > 50
    third_way = ("bulk_create_with_history", "bulk_update_with_history", "save_without_historical_record")
    found = [
        str(path.relative_to(ROOT))
        for path in modules
        if any(f"{name}(" in path.read_text() or f"import {name}" in path.read_text() for name in third_way)
    ]
    assert found == []
