"""Retention per department (issue 21.1): erased at the end of the period, not a second before, per department, in
the department's calendar days across a change of clocks, holds honoured; the daily task and purge_expired."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from appointments.models import Appointment, Department
from appointments.retention import erase_after, oldest_erased_on
from claimants.models import Claimant
from privacy.models import Erasure, LegalHold, Reason
from privacy.retention import retention_purge, retention_requeue
from tests.factories import DepartmentFactory, make_appointment
from tests.helpers import run_command, staff

pytestmark = pytest.mark.django_db

# Booked a week before, held on 20 October 2026 at 10:30 BST for an hour: it ends 10:30 UTC. The clocks go back on 25
# October, so ten calendar days later in London (11:30 GMT on 30 October) is 11:30 UTC, an hour after ten days of UTC.
BOOKED = datetime(2026, 10, 13, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)
END_OF_PERIOD = datetime(2026, 10, 30, 11, 30, tzinfo=UTC)


def booked(department: Department, reference: str) -> Appointment:
    with time_machine.travel(BOOKED, tick=False):
        claimant = {"name": "Ada Lovelace", "email": "ada@example.com"}
        return make_appointment(
            department, appointment_at=STARTS, duration_in_minutes=60, reference=reference, claimant=claimant
        )


@pytest.fixture
def london() -> Department:
    return DepartmentFactory.create(name="London", time_zone="Europe/London", retention_days=10)


def erased(appointment: Appointment) -> bool:
    return Claimant.objects.get(appointment=appointment).erased_at is not None


def purge(at: datetime, *args: str) -> list[str]:
    with time_machine.travel(at, tick=False):
        return run_command("purge_expired", *args)


def test_the_period_ends_at_the_same_local_time_after_the_clocks_changed() -> None:
    from zoneinfo import ZoneInfo

    ends = STARTS + timedelta(hours=1)
    assert erase_after(ends, ZoneInfo("Europe/London"), 10) == END_OF_PERIOD
    assert erase_after(ends, ZoneInfo("UTC"), 10) == ends + timedelta(days=10)


def test_nothing_is_erased_a_second_before_the_end_and_everything_due_at_it(london: Department, settings: Any) -> None:
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    due = booked(london, "DUE")
    elsewhere = booked(DepartmentFactory.create(name="Default", time_zone="Europe/London"), "DEFAULT")
    purge(END_OF_PERIOD - timedelta(hours=1))  # ten days of UTC: not ten days in London
    purge(END_OF_PERIOD - timedelta(seconds=1))
    assert not erased(due)
    assert not Erasure.objects.exists()
    lines = purge(END_OF_PERIOD)
    assert erased(due)
    assert not erased(elsewhere)  # its department keeps the default 30 days
    erasure = Erasure.objects.get(appointment=due)
    assert (erasure.reason, erasure.erased_by, erasure.erased_at) == (Reason.RETENTION, None, END_OF_PERIOD)
    assert lines == [
        f"{due.pk} DUE (London), past its period since 2026-10-30 11:30 UTC: erased",
        "1 appointments erased, 0 kept on legal hold.",
    ]
    assert purge(END_OF_PERIOD + timedelta(days=1))[-1] == "0 appointments erased, 0 kept on legal hold."


def test_a_dry_run_prints_what_it_would_erase_and_erases_nothing(london: Department) -> None:
    due = booked(london, "DUE")
    lines = purge(END_OF_PERIOD, "--dry-run")
    assert lines == [
        f"{due.pk} DUE (London), past its period since 2026-10-30 11:30 UTC: would erase",
        "1 appointments would erase, 0 kept on legal hold.",
    ]
    assert not erased(due)
    assert Claimant.objects.get(appointment=due).name == "Ada Lovelace"


def test_an_appointment_on_hold_is_kept_until_the_hold_ends(london: Department) -> None:
    held, free = booked(london, "HELD"), booked(london, "FREE")
    manager = staff("boss", london, group="Department managers")
    with time_machine.travel(BOOKED, tick=False):
        LegalHold.objects.create(
            appointment=held, reason="Claim", until=datetime(2026, 11, 5).date(), placed_at=BOOKED, placed_by=manager
        )
    lines = purge(END_OF_PERIOD)
    assert (erased(held), erased(free)) == (False, True)
    assert f"{held.pk} HELD (London), past its period since 2026-10-30 11:30 UTC: kept: on legal hold" in lines
    purge(datetime(2026, 11, 5, 23, 59, tzinfo=UTC))  # 23:59 GMT on its last day: still held
    assert not erased(held)
    purge(datetime(2026, 11, 6, 0, 0, tzinfo=UTC))
    assert erased(held)


def test_the_daily_task_erases_and_runs_again_a_day_later(london: Department) -> None:
    due = booked(london, "DUE")
    with time_machine.travel(END_OF_PERIOD, tick=False):
        assert retention_requeue() == 1
        assert retention_requeue() == 0  # one waits already
        first = DBTaskResult.objects.get(task_path=retention_purge.module_path)
        first.delete()
        assert retention_purge.call() == {"erased": 1, "held": 0}
    assert erased(due)
    waiting = DBTaskResult.objects.get(task_path=retention_purge.module_path, status="READY")
    assert waiting.run_after == END_OF_PERIOD + timedelta(days=1)


def test_the_department_shows_when_its_oldest_appointment_is_erased(london: Department) -> None:
    from tests.helpers import logged_in

    assert oldest_erased_on(london) is None
    booked(london, "DUE")
    assert oldest_erased_on(london) == END_OF_PERIOD
    manager = staff("boss", london, group="Department managers")
    page = logged_in(manager).get(f"/admin/appointments/department/{london.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "10 days after each appointment ends; the oldest kept now is erased Fri 30 Oct 2026, 11:30 GMT." in text
    assert 'name="retention_days"' in text
