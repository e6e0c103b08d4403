"""The status poll writes its heartbeat only once the stored one is a third of WAITING_ABSENCE_SECONDS old (issue
26.5, meetings.services.pages.heartbeat_every): a poll in between is one SELECT and no write. Across time, with the
clock moved poll by poll, a claimant whose page keeps polling, even through two failed polls in a row at the worst
moment, is never let go as absent (the task worker's check, the back office's waiting room), never counted out of
the waiting room by the live pages, never recorded as a no-show, and a session they stay in is not completed as
abandoned under them.

The clock is set to Wednesday 9 June 2027, 10:00 UTC, so the appointment 10 minutes ahead is today's in the
department's zone whatever the hour the tests run at."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment, Outcome, Status
from appointments.overrun import appointments_complete_abandoned
from appointments.services import appointment_update
from meetings.models import Participant
from meetings.services.pages import heartbeat_every
from tests.helpers import logged_in, run_tasks, staff
from tests.meetings.test_identity import claimant, opened, post, ready_in, soon

NOW = datetime(2027, 6, 9, 10, 0, tzinfo=UTC)
POLL = timedelta(seconds=5)  # STATUS_POLL_SECONDS
# static/meetings/join.js: a failed poll waits seconds * 2**failures (at most 30 s) before the next, so a page whose
# next two polls fail is silent for one interval, then 10 s, then 20 s after its last answered poll.
TWO_FAILED_POLLS = POLL + timedelta(seconds=10) + timedelta(seconds=20)
WAITING_ROOM = "/admin/appointments/appointment/waiting-room/"
LIVE = "/admin/appointments/appointment/live/"


@pytest.fixture(autouse=True)
def defaults(settings: Any) -> None:
    settings.WAITING_ABSENCE_SECONDS = 60
    settings.STATUS_POLL_SECONDS = 5
    settings.SESSION_ABANDONED_MINUTES = 10
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000  # one address, a poll every 5 s of moved clock; tested elsewhere


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def waiting_in(department: Any) -> tuple[Appointment, Client]:
    """An appointment 10 minutes ahead whose claimant's page (its browser) has joined the waiting room."""
    appointment = soon(department)
    browser = opened(appointment.public_token)
    ready_in(browser, appointment)
    assert post(browser, appointment.public_token, "join", {}).json()["state"] == "waiting"
    return appointment, browser


def poll(browser: Client, appointment: Appointment) -> Any:
    response = browser.get(f"/join/{appointment.public_token}/status")
    assert response.status_code == 200
    return response


def seen(appointment: Appointment) -> datetime:
    stored = claimant(appointment).last_seen_at
    assert stored is not None
    return stored


def test_the_threshold_is_a_third_of_the_absence_window(settings: Any) -> None:
    assert heartbeat_every() == timedelta(seconds=20)
    settings.WAITING_ABSENCE_SECONDS = 2
    assert heartbeat_every() == timedelta(seconds=1)


def test_a_poll_within_the_threshold_reads_once_and_writes_nothing(department: Any, clock: Any) -> None:
    appointment, browser = waiting_in(department)
    joined = seen(appointment)
    for _ in range(3):  # 5, 10 and 15 s after the last heartbeat
        clock.shift(POLL)
        with CaptureQueriesContext(connection) as queries:
            poll(browser, appointment)
        assert [q["sql"].split()[0] for q in queries] == ["SELECT"]
        assert seen(appointment) == joined
    clock.shift(POLL)  # 20 s: due
    with CaptureQueriesContext(connection) as queries:
        poll(browser, appointment)
    assert [q["sql"].split()[0] for q in queries] == ["SELECT", "UPDATE"]
    assert seen(appointment) == timezone.now()


def still_there(appointment: Appointment, desk: Client) -> None:
    """Every reader of the heartbeat sees the claimant waiting: the absence check (the task worker's, and the
    waiting room's on its refresh), the waiting room's rows and the live pages' count."""
    run_tasks()
    person = claimant(appointment)
    assert person.left_at is None
    assert Appointment.objects.get(pk=appointment.pk).status in (Status.WAITING, Status.IN_PROGRESS)
    page = desk.get(WAITING_ROOM)
    rows = {row["appointment"].pk: row for row in page.context["rows"]}
    assert [p.pk for p in rows[appointment.pk]["waiting"]] == [person.pk]
    assert desk.get(LIVE).json()["waiting"] == 1


def test_a_claimant_who_keeps_polling_is_never_seen_as_gone_nor_a_no_show(department: Any, clock: Any) -> None:
    appointment, browser = waiting_in(department)
    desk = logged_in(staff("desk", department))
    window = timedelta(seconds=60)
    failed_twice = False
    written = polls = 0
    # Polling from 10 minutes before the start to the end of the meeting, nobody admitting them.
    while timezone.now() < appointment.ends_at - POLL:
        before = seen(appointment)
        clock.shift(POLL)
        poll(browser, appointment)
        polls += 1
        written += seen(appointment) != before
        # Were the next two polls to fail now, the page's silence would still end inside the window.
        assert timezone.now() - seen(appointment) + TWO_FAILED_POLLS < window
        if timezone.now().second % 30 == 0:
            still_there(appointment, desk)
        if not failed_twice and timezone.now() - seen(appointment) == heartbeat_every() - POLL:
            # The worst moment: the stored heartbeat is as old as it gets without a write. Two polls fail (a 429,
            # the network): every second of the silence, the absence check runs.
            failed_twice = True
            for _ in range(int(TWO_FAILED_POLLS.total_seconds()) - 1):
                clock.shift(timedelta(seconds=1))
                run_tasks()
                assert claimant(appointment).left_at is None
            clock.shift(timedelta(seconds=1))
            poll(browser, appointment)
            assert seen(appointment) == timezone.now()
            still_there(appointment, desk)
    assert failed_twice
    assert written / polls <= 0.3  # one poll in four writes (20 s at 5 s), where every one did
    # The meeting ended without anyone admitting them: the no-show rule (its task, due at the end) finds the
    # organisation missed it, the claimant was there.
    clock.shift(POLL + timedelta(seconds=1))
    poll(browser, appointment)
    assert "appointment_check_no_show" in run_tasks()
    ended = Appointment.objects.get(pk=appointment.pk)
    assert (ended.status, ended.outcome) == (Status.CANCELLED, Outcome.MISSED_BY_ORGANISATION)


def test_a_session_the_claimant_stays_in_is_not_completed_as_abandoned(department: Any, agent: Any, clock: Any):
    appointment, browser = waiting_in(department)
    clock.move_to(appointment.appointment_at)
    appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=agent.user)
    assert claimant(appointment).admitted_at is not None
    Participant.objects.filter(appointment=appointment).exclude(pk=claimant(appointment).pk).update(last_seen_at=None)
    # The call runs over its end by more than SESSION_ABANDONED_MINUTES; only the claimant's page is open.
    while timezone.now() < appointment.ends_at + timedelta(minutes=15):
        clock.shift(POLL)
        poll(browser, appointment)
        if timezone.now().second == 0:
            assert appointments_complete_abandoned(now=timezone.now(), appointment_id=appointment.pk) == []
    last = seen(appointment)
    clock.shift(timedelta(minutes=10, seconds=1))  # the page closed
    (completed,) = appointments_complete_abandoned(now=timezone.now(), appointment_id=appointment.pk)
    assert completed.status == Status.COMPLETED
    # Its end is the last heartbeat stored: within one threshold of the page's last poll.
    assert completed.session_ended_at == last
    assert timezone.now() - timedelta(minutes=10, seconds=1) - last < heartbeat_every()
