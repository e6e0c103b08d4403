"""Concurrent writers on PostgreSQL, with real threads and real transactions.

Inside one test transaction these would pass whether or not the service locks, so they run with
`transaction=True`; SQLite has no row locks and serialises whole-database writes, so they are skipped there.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest

from appointments.models import Appointment
from appointments.services import appointment_update
from claimants.models import ClaimantData
from tests.helpers import postgres_only, run_together
from tests.support import Persona

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_concurrent_patches_of_different_fields_lose_nothing(agent: Persona, appointment: Appointment) -> None:
    case_item = ClaimantData.objects.get(claimant__appointment=appointment, field__name="Case number")
    date_item = ClaimantData.objects.get(claimant__appointment=appointment, field__name="Incident date")
    path = f"/api/v1/appointments/{appointment.pk}"
    for round_number in range(5):
        bodies: list[dict[str, Any]] = [
            {"duration_in_minutes": 30 + round_number},
            {"features_bandwidth": ["low", "medium"][round_number % 2]},
            {"features_call_recording_enable": round_number % 2 == 0},
            {"features_screen_sharing_enable": round_number % 2 == 1},
            {"interpreter_language": f"Language {round_number}", "is_interpreter_needed": True},
            {"claimant": {"name": f"Name {round_number}"}},
            {"claimant": {"email": f"r{round_number}@example.com"}},
            {"claimant": {"data": [{"id": str(case_item.pk), "value": f"CASE-{round_number}"}]}},
            {"claimant": {"data": [{"id": str(date_item.pk), "value": f"2024-01-{round_number + 10}"}]}},
        ]

        def patcher(body: dict[str, Any]) -> Callable[[], int]:
            return lambda: agent.client().patch(path, body, format="json").status_code

        statuses = run_together([patcher(body) for body in bodies])
        assert statuses == [200] * len(bodies)
        fresh = Appointment.objects.with_related().get(pk=appointment.pk)
        values = {item.field.name: item.value for item in fresh.claimant.data.all()}
        assert fresh.duration_in_minutes == 30 + round_number
        assert fresh.features_bandwidth == ["low", "medium"][round_number % 2]
        assert fresh.features_call_recording_enable is (round_number % 2 == 0)
        assert fresh.features_screen_sharing_enable is (round_number % 2 == 1)
        assert (fresh.is_interpreter_needed, fresh.interpreter_language) == (True, f"Language {round_number}")
        assert (fresh.claimant.name, fresh.claimant.email) == (f"Name {round_number}", f"r{round_number}@example.com")
        assert values == {"Case number": f"CASE-{round_number}", "Incident date": f"2024-01-{round_number + 10}"}
        assert fresh.meeting.end_date == fresh.ends_at


def test_a_second_writer_waits_for_the_row_lock(agent: Persona, appointment: Appointment) -> None:
    """The first update holds the lock (paused in its precondition); the second must not finish before it."""
    holding = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        def pause(_locked: Appointment) -> None:
            holding.set()
            release.wait(timeout=10)

        appointment_update(
            appointment=appointment, data={"duration_in_minutes": 41}, actor=agent.user, precondition=pause
        )
        order.append("first")

    def second() -> None:
        holding.wait(timeout=10)
        appointment_update(appointment=appointment, data={"features_bandwidth": "low"}, actor=agent.user)
        order.append("second")

    def releaser() -> None:
        holding.wait(timeout=10)
        threading.Event().wait(0.5)  # give the second writer time to reach the lock and block on it
        order.append("release")
        release.set()

    run_together([first, second, releaser])
    assert order[0] == "release"
    assert set(order) == {"release", "first", "second"}
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert (fresh.duration_in_minutes, fresh.features_bandwidth) == (41, "low")


def test_if_match_lets_only_one_of_two_racing_writers_win(agent: Persona, appointment: Appointment) -> None:
    path = f"/api/v1/appointments/{appointment.pk}"
    etag = agent.client().get(path)["ETag"]

    def patcher(minutes: int) -> Callable[[], int]:
        return lambda: (
            agent.client().patch(path, {"duration_in_minutes": minutes}, format="json", HTTP_IF_MATCH=etag).status_code
        )

    statuses = sorted(run_together([patcher(25), patcher(35)]))
    assert statuses == [200, 412]
    assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes in (25, 35)
