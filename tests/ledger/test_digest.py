"""The daily digest of every chain's head (issue 20.2): recorded once a day by the worker (its sweep enqueues the
day's task), logged without anything personal, and no longer matching once a chain's head is tampered with; and
`manage.py verify_ledger` as an operator runs it, in a process of its own: exit 0, or 1 naming the entry."""

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from ledger import digest
from ledger.models import Digest, Entry
from ledger.services import entries_of
from tests.factories import make_appointment
from tests.helpers import run_tasks, shared_database_only
from tests.support import database_env

ROOT = Path(__file__).resolve().parents[2]


def test_the_sweep_enqueues_the_days_digest_once_and_the_worker_records_and_logs_it(
    department, other_department, caplog
) -> None:
    ours, theirs = make_appointment(department), make_appointment(other_department)
    run_tasks()  # their messages sent first (entries of their own)
    assert digest.digest_requeue() == 1
    assert digest.digest_requeue() == 0  # a task will take it: not enqueued twice
    with caplog.at_level(logging.INFO, logger="ledger"):
        assert "ledger_digest" in run_tasks()
    taken = Digest.objects.get()
    assert taken.day == timezone.now().date()
    assert taken.departments[str(department.pk)]["chains"] == 1
    assert taken.departments[str(other_department.pk)]["chains"] == 1
    assert taken.digest == digest.digest_of(taken.day, digest.chain_heads())[0]
    last = entries_of(ours.pk).last()
    assert last is not None
    assert digest.chain_heads()[str(department.pk)] == [[str(ours.pk), last.sequence, last.hash]]
    [line] = [r.getMessage() for r in caplog.records if r.name == "ledger"]
    assert taken.digest in line
    assert "2 chains in 2 departments" in line
    assert theirs.claimant.name not in line
    assert digest.digest_requeue() == 0  # today's is taken
    assert digest.digest_take() is None  # and taken once


def test_a_head_changed_since_no_longer_matches_the_digest(api, appointment) -> None:
    taken = digest.digest_take()
    assert taken is not None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER USER")
        cursor.execute("UPDATE ledger_entry SET hash = %s WHERE id = %s", ["f" * 64, entries_of(appointment.pk)[0].id])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER USER")
    assert digest.digest_of(taken.day, digest.chain_heads())[0] != taken.digest


def test_a_missing_digest_is_stuck_only_when_no_task_will_take_it(db) -> None:
    """A worker's first sweep of a day enqueues the digest's task and then asks what is stuck: a digest with its
    task waiting is no alarm (the task, if it waits too long, is the sweep's "tasks overdue"); a digest missing with
    no task, once the day is older than the threshold, is. Seen failing: a fresh worker logged "Work is stuck" at
    its first sweep of every day."""
    noon = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    with time_machine.travel(noon, tick=False):
        cutoff = noon - timedelta(minutes=10)
        assert digest.digest_stuck(cutoff) == 1  # missing, nothing to take it
        assert digest.digest_requeue() == 1
        assert digest.digest_stuck(cutoff) == 0  # its task is waiting
        assert digest.digest_stuck(datetime(2026, 12, 4, 0, 0, tzinfo=UTC)) == 0  # the day too young to tell
        digest.digest_take()
        assert digest.digest_stuck(cutoff) == 0


def _verify_ledger(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **database_env(), "DB_CONN_MAX_AGE": "0"}
    return subprocess.run(  # noqa: S603 (this interpreter, our own manage.py)
        [sys.executable, str(ROOT / "manage.py"), "verify_ledger", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@shared_database_only
@pytest.mark.django_db(transaction=True)
def test_verify_ledger_exits_0_then_1_naming_the_entry_after_an_edit(department) -> None:
    appointment = make_appointment(department)
    good = _verify_ledger()
    assert (good.returncode, good.stdout.strip()) == (0, "The ledger verifies: 1 entries.")
    entry = Entry.objects.get(appointment_id=appointment.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER USER")
        cursor.execute("UPDATE ledger_entry SET actor_type = 'system' WHERE id = %s", [entry.id])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER USER")
    bad = _verify_ledger("--appointment", str(appointment.pk))
    assert bad.returncode == 1
    assert f"entry {entry.id} (appointment {appointment.pk}, sequence 1)" in bad.stderr
