"""The back office's one live mechanism (issue 24.2): today's list, the calendar and the waiting room each render the
version of their span, and poll one endpoint that answers it (an ETag, a 304 while nothing changed) with how many
people wait and how many wait for the viewer's own appointments. A claimant arriving, a change from the API and a
move out of the span each change it; the endpoint's queries do not grow with the day.

The clock is set to Wednesday 9 June 2027, 10:00 UTC (11:00 in London), so the appointment 10 minutes ahead is
today's and its join window is open whatever the hour the tests run at.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.live import live_version
from appointments.local_time import local_day
from appointments.models import Appointment, Status
from appointments.services import appointment_update
from tests.factories import make_appointment
from tests.helpers import claimant_joins, logged_in, staff

LIVE = "/admin/appointments/appointment/live/"
NOW = datetime(2027, 6, 9, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def desk(department, frozen):
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    return staff("desk", department)


def soon(department, agent, reference: str, minutes: int = 10) -> Appointment:
    return make_appointment(
        department,
        appointment_at=NOW + timedelta(minutes=minutes),
        duration_in_minutes=30,
        reference=reference,
        agent_id=agent.pk if agent else None,
        claimant={"name": "Ada Lovelace", "data": {"Case number": reference}},
    )


def test_the_version_changes_when_a_claimant_arrives_and_a_304_while_nothing_does(department, desk) -> None:
    appointment = soon(department, desk, "MINE")
    client = logged_in(desk)
    first = client.get(LIVE)
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("private, no-cache")
    body = first.json()
    assert body["waiting"] == 0
    assert body["mine"] == 0
    assert client.get(LIVE, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    claimant_joins(appointment)  # the claimant's page, in another browser
    assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING
    second = client.get(LIVE, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["version"] != body["version"]
    assert (second.json()["waiting"], second.json()["mine"]) == (1, 1)
    assert second["ETag"] != first["ETag"]


def test_a_change_from_the_api_and_a_move_away_change_it(department, desk) -> None:
    appointment = soon(department, None, "OTHERS", minutes=60)
    client = logged_in(desk)
    version = client.get(LIVE).json()["version"]
    appointment_update(appointment=appointment, data={"duration_in_minutes": 45}, actor=None)
    changed = client.get(LIVE).json()
    assert changed["version"] != version
    assert changed["mine"] == 0
    appointment_update(appointment=appointment, data={"appointment_at": NOW + timedelta(days=2)}, actor=None)
    assert client.get(LIVE).json()["version"] not in (version, changed["version"])


def test_the_pages_render_the_version_the_endpoint_answers(department, desk) -> None:
    soon(department, desk, "PAGE")
    client = logged_in(desk)
    version = client.get(LIVE).json()["version"]
    start, end = local_day(NOW, ZoneInfo("Europe/London"))
    assert live_version(Appointment.objects.all(), start, end, now=timezone.now()) == version
    listing = client.get("/admin/appointments/appointment/").content.decode()
    assert f'data-live-version="{version}"' in listing
    assert 'src="/static/appointments/live.js"' in listing
    room = client.get("/admin/appointments/appointment/waiting-room/").content.decode()
    assert f'data-live-version="{version}"' in room
    assert "data-refresh-url" not in room  # the waiting room's own refresh is folded into the one mechanism
    calendar = client.get("/admin/appointments/appointment/calendar/").content.decode()
    assert f'data-live-version="{version}"' in calendar


def test_the_endpoints_queries_stay_the_same_as_the_day_fills(department, desk) -> None:
    client = logged_in(desk)

    def queries(count: int, offset: int) -> int:
        for n in range(count):
            appointment = soon(department, None, f"Q{count}-{n}", minutes=offset + n)
            if n % 2 == 0 and offset < 60:
                claimant_joins(appointment)
        client.get(LIVE)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIVE).status_code == 200
        return len(captured)

    assert queries(2, 5) == queries(12, 120)


def test_another_departments_waiting_claimant_is_not_counted(department, other_department, desk) -> None:
    theirs = make_appointment(
        other_department, appointment_at=NOW + timedelta(minutes=10), duration_in_minutes=30, reference="THEIRS"
    )
    claimant_joins(theirs)
    assert logged_in(desk).get(LIVE).json()["waiting"] == 0
