"""No double booking (issue 23.3): twenty claimants' bookings race for an agent's last free time on PostgreSQL, in
twenty real threads with their own connections and transactions; and the exclusion constraint, buffers included,
refuses an overlapping write that goes around the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from appointments.availability import BookingRules, WorkingHours
from appointments.models import Appointment, Department
from tests.factories import UserFactory, make_appointment
from tests.helpers import run_together
from tests.support import Persona

NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)
postgres_only_constraint = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the exclusion constraint (btree_gist) and real row-level concurrency exist only there",
)
pytestmark = [postgres_only_constraint]


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def one_time_left(department: Department) -> tuple[Department, int]:
    """Ann works Tuesdays 09:00 to 11:00 (UTC), hour-long slots, no buffers; 10:00 is booked: 09:00 is the
    last free time this week."""
    department.time_zone = "UTC"
    department.save(update_fields=["time_zone"])
    BookingRules.objects.create(
        department=department, slot_minutes=60, buffer_before_minutes=0, notice_to_book_minutes=0
    )
    ann = UserFactory.create(username="ann", is_staff=True)
    department.members.add(ann)
    WorkingHours.objects.create(department=department, agent=ann, weekday=1, starts_at=time(9), ends_at=time(11))
    make_appointment(
        department, appointment_at=datetime(2027, 3, 23, 10, tzinfo=UTC), agent_id=ann.pk, duration_in_minutes=45
    )
    return department, ann.pk


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_race_for_the_last_time_exactly_one_wins_the_rest_are_offered_the_next(
    clock: None, agent: Persona, one_time_left: tuple[Department, int]
) -> None:
    department, ann = one_time_left
    slots = agent.client().get(
        f"/api/v1/departments/{department.pk}/slots", {"from": "2027-03-23T00:00:00Z", "to": "2027-03-24T00:00:00Z"}
    )
    assert [slot["start"] for slot in slots.json()["data"]] == ["2027-03-23T09:00:00.000Z"]

    def booking(n: int) -> Callable[[], tuple[int, dict]]:
        body = {
            "appointment_at": "2027-03-23T09:00:00.000Z",
            "duration_in_minutes": 60,
            "agent_id": ann,
            "claimant": {"name": f"Claimant {n}", "data": [{"name": "Case number", "value": f"C-{n}"}]},
        }

        def post() -> tuple[int, dict]:
            response = agent.client().post("/api/v1/appointments", body, format="json")
            return response.status_code, response.json()

        return post

    outcomes = run_together([booking(n) for n in range(20)])
    statuses = sorted(status for status, _body in outcomes)
    assert statuses == [201] + [422] * 19
    for status, body in outcomes:
        if status == 422:
            messages = body["errors"]["agent_id"]
            assert messages[0].startswith("The agent already has")
            # Offered the next times: the following Tuesdays' (this one has nothing left).
            assert (
                messages[-1]
                == "Free times from then: Tue 30 Mar 2027, 09:00 UTC; Tue 30 Mar 2027, 10:00 UTC."  # within two weeks
            )
            assert set(body["errors"]) == {"agent_id"}
    booked = Appointment.objects.filter(agent_id=ann, appointment_at=datetime(2027, 3, 23, 9, tzinfo=UTC))
    assert booked.count() == 1
    assert Appointment.objects.filter(department=department).count() == 2


@pytest.mark.history_unchecked  # the point: rows written around the service (and its history)
@pytest.mark.django_db(transaction=True)
def test_the_constraint_holds_the_buffers_against_a_write_around_the_service(
    one_time_left: tuple[Department, int],
) -> None:
    department, ann = one_time_left
    BookingRules.objects.filter(department=department).update(buffer_before_minutes=15, buffer_after_minutes=15)
    free = make_appointment(department, appointment_at=datetime(2027, 3, 24, 9, tzinfo=UTC), duration_in_minutes=30)
    taken = Appointment.objects.get(agent_id=ann)  # 10:00 to 10:45, booked with no buffers
    Appointment.objects.filter(pk=taken.pk).update(buffer_before_minutes=15, buffer_after_minutes=15)
    # 09:30 to 09:45 does not meet 10:00 to 10:45, but with 15 minutes after it and 15 before 10:00, it does.
    with pytest.raises(IntegrityError, match="appointment_agent_no_overlap"), transaction.atomic():
        Appointment.objects.filter(pk=free.pk).update(
            agent_id=ann,
            appointment_at=datetime(2027, 3, 23, 9, 30, tzinfo=UTC),
            duration_in_minutes=15,
            buffer_after_minutes=15,
        )
    free.refresh_from_db()
    assert free.agent_id is None
    # Cancelled appointments take nobody's time: the same write succeeds once the other is cancelled.
    Appointment.objects.filter(pk=taken.pk).update(status="cancelled", cancelled_at=NOW)
    Appointment.objects.filter(pk=free.pk).update(
        agent_id=ann,
        appointment_at=datetime(2027, 3, 23, 9, 30, tzinfo=UTC),
        duration_in_minutes=15,
        buffer_after_minutes=15,
    )
    assert Appointment.objects.get(pk=free.pk).agent_id == ann
