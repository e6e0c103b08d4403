"""The claimant's own change of time and cancel (issue 23.2), at the service: the department's minimum notice to
reschedule and to cancel and its limit on reschedules, across time (the clock frozen before, inside and after the
notice); the change is an ordinary change by the claimant (event with the claimant as actor, ledger entry, history);
a time taken meanwhile is refused with the next times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User

from appointments.availability import BookingRules, WorkingHours
from appointments.models import Appointment, Department, Status
from appointments.services import (
    ClaimantRefused,
    Refusal,
    TimeGone,
    appointment_claimant_cancel,
    appointment_claimant_reschedule,
    appointment_update,
    claimant_free_times,
    claimant_rules,
)
from events.models import Event, EventType
from ledger.context import channel
from ledger.models import Channel, Entry
from meetings.models import Participant, Role
from tests.factories import UserFactory, make_appointment

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday 22 March 2027, 07:00 GMT
AT = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)  # Wednesday, 10:00: 51 hours ahead
NEW = datetime(2027, 3, 25, 14, 0, tzinfo=UTC)  # Thursday, 14:00: free
THURSDAY = datetime(2027, 3, 25, 0, 0, tzinfo=UTC)  # the page offers a few times from a moment on


def staff(department: Department, name: str) -> User:
    user = UserFactory.create(username=name, is_staff=True)
    department.members.add(user)
    for weekday in range(5):
        WorkingHours.objects.create(
            department=department, agent=user, weekday=weekday, starts_at=time(9), ends_at=time(17)
        )
    return user


@pytest.fixture
def ruled(department: Department) -> Department:
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    BookingRules.objects.create(
        department=department,
        slot_minutes=60,
        notice_to_book_minutes=60,
        notice_to_reschedule_minutes=24 * 60,
        notice_to_cancel_minutes=48 * 60,
        max_claimant_reschedules=1,
    )
    return Department.objects.get(pk=department.pk)


@pytest.fixture
def booked(ruled: Department) -> tuple[Appointment, Participant, User]:
    ann = staff(ruled, "ann")
    with time_machine.travel(NOW, tick=False):
        appointment = make_appointment(ruled, appointment_at=AT, duration_in_minutes=60, agent_id=ann.pk)
    return appointment, appointment.participants.get(role=Role.CLAIMANT), ann


def reschedule(appointment: Appointment, claimant: Participant, start: datetime, agent: int | None) -> Appointment:
    with channel(Channel.CLAIMANT_PAGE):
        return appointment_claimant_reschedule(appointment=appointment, start=start, agent_id=agent, actor=claimant)


NOTICE_CASES = [
    (AT - timedelta(hours=49), (None, None)),  # before both notices
    (AT - timedelta(hours=47), (None, Refusal.NOTICE)),  # inside the notice to cancel, not to reschedule
    (AT - timedelta(hours=23), (Refusal.NOTICE, Refusal.NOTICE)),  # inside both
    (AT + timedelta(hours=1), (Refusal.NOTICE, Refusal.NOTICE)),  # after its time (still scheduled)
]


@pytest.mark.parametrize(("moment", "expected"), NOTICE_CASES)
def test_the_notice_to_reschedule_holds_as_time_passes(booked, moment, expected) -> None:
    appointment, claimant, ann = booked
    with time_machine.travel(moment, tick=False):
        rules = claimant_rules(appointment, moment)
        assert (rules.reschedule, rules.cancel) == expected
        assert (rules.reschedule_until, rules.cancel_until) == (AT - timedelta(hours=24), AT - timedelta(hours=48))
        if expected[0] is None:
            assert reschedule(appointment, claimant, NEW, ann.pk).appointment_at == NEW
            return
        with pytest.raises(ClaimantRefused) as refused:
            reschedule(appointment, claimant, NEW, ann.pk)
    assert refused.value.refusal == expected[0]
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == AT
    assert not Entry.objects.filter(appointment_id=appointment.pk, type="appointment.rescheduled").exists()


@pytest.mark.parametrize(("moment", "expected"), NOTICE_CASES)
def test_the_notice_to_cancel_holds_as_time_passes(booked, moment, expected) -> None:
    appointment, claimant, _ann = booked
    with time_machine.travel(moment, tick=False):
        if expected[1] is None:
            cancelled = appointment_claimant_cancel(appointment=appointment, reason="Unwell", actor=claimant)
            assert (cancelled.status, cancelled.cancellation_reason) == (Status.CANCELLED, "Unwell")
            assert claimant_rules(cancelled, moment).reschedule == Refusal.STATUS  # nothing more to change
            return
        with pytest.raises(ClaimantRefused) as refused:
            appointment_claimant_cancel(appointment=appointment, reason=None, actor=claimant)
    assert refused.value.refusal == expected[1]
    assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED


def test_a_reschedule_is_the_claimants_change_with_its_event_ledger_entry_and_history(booked) -> None:
    appointment, claimant, ann = booked
    with time_machine.travel(NOW, tick=False):
        assert AT not in [time.start for time in claimant_free_times(appointment, now=NOW, any_agent=False, after=AT)]
        offered = claimant_free_times(appointment, now=NOW, any_agent=False, after=THURSDAY)
        assert NEW in [time.start for time in offered]
        moved = reschedule(appointment, claimant, NEW, ann.pk)
    assert (moved.appointment_at, moved.agent_id) == (NEW, ann.pk)
    event = Event.objects.get(appointment_id=appointment.pk, type=EventType.APPOINTMENT_RESCHEDULED)
    assert event.content["actor"] == {"type": "claimant", "participant_id": str(claimant.pk)}
    created = Event.objects.get(appointment_id=appointment.pk, type=EventType.APPOINTMENT_CREATED)
    assert "actor" not in created.content  # staff's and the API's changes carry none (additive)
    entry = Entry.objects.get(appointment_id=appointment.pk, type="appointment.rescheduled")
    assert (entry.actor_type, entry.actor_id, entry.channel) == ("claimant", str(claimant.pk), "claimant_page")
    assert Appointment.history.filter(id=appointment.pk, appointment_at=NEW).exists()
    assert moved.meeting.start_date == NEW  # the meeting follows, the link stays
    assert Participant.objects.get(pk=claimant.pk).token == claimant.token


def test_the_last_permitted_reschedule_closes_the_door_but_staff_moves_do_not_count(booked) -> None:
    appointment, claimant, ann = booked
    with time_machine.travel(NOW, tick=False):
        # Staff move it: the claimant still has their one reschedule.
        appointment_update(appointment=appointment, data={"appointment_at": NEW}, actor=ann)
        assert claimant_rules(Appointment.objects.get(pk=appointment.pk), NOW).reschedules_left == 1
        reschedule(appointment, claimant, AT, ann.pk)
        again = Appointment.objects.get(pk=appointment.pk)
        assert claimant_rules(again, NOW).reschedule == Refusal.LIMIT
        with pytest.raises(ClaimantRefused) as refused:
            reschedule(appointment, claimant, NEW, ann.pk)
    assert refused.value.refusal == Refusal.LIMIT
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == AT
    # The claimant may still cancel: the limit is on reschedules.
    with time_machine.travel(NOW, tick=False):
        assert claimant_rules(again, NOW).cancel is None


def test_a_time_taken_meanwhile_is_refused_with_the_next_times(booked, ruled) -> None:
    appointment, claimant, ann = booked
    with time_machine.travel(NOW, tick=False):
        assert NEW in [
            time.start for time in claimant_free_times(appointment, now=NOW, any_agent=False, after=THURSDAY)
        ]
        make_appointment(ruled, appointment_at=NEW, duration_in_minutes=60, agent_id=ann.pk)  # someone else took it
        with pytest.raises(TimeGone) as gone:
            reschedule(appointment, claimant, NEW, ann.pk)
    offered = [time.start for time in gone.value.offered]
    assert offered
    assert NEW not in offered
    assert offered[0] > NEW
    assert Appointment.objects.get(pk=appointment.pk).appointment_at == AT
    assert not Event.objects.filter(appointment_id=appointment.pk, type=EventType.APPOINTMENT_RESCHEDULED).exists()


def test_another_agent_only_when_the_claimant_agrees(booked, ruled) -> None:
    appointment, claimant, ann = booked
    bob = staff(ruled, "bob")
    with time_machine.travel(NOW, tick=False):
        make_appointment(ruled, appointment_at=NEW, duration_in_minutes=60, agent_id=ann.pk)  # Ann is busy at NEW
        own = claimant_free_times(appointment, now=NOW, any_agent=False, after=THURSDAY)
        wide = claimant_free_times(appointment, now=NOW, any_agent=True, after=THURSDAY)
        assert {time.agent_id for time in own} == {ann.pk}
        assert [(time.start, time.agent_id) for time in wide if time.start == NEW] == [(NEW, bob.pk)]
        assert all(time.agent_id == ann.pk for time in wide if time.start in {t.start for t in own})
        moved = reschedule(appointment, claimant, NEW, bob.pk)
    assert (moved.appointment_at, moved.agent_id) == (NEW, bob.pk)
