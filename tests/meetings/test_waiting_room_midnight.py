"""A defect found by CI at 23:16 UTC on 2026-12-04, recorded before its fix: the staff waiting room lists the staff
member's today only, so a claimant who waits before local midnight for an appointment just after it is shown to
nobody until midnight (and the tab's count of who waits misses them). tests/e2e/test_welsh_journey.py met it at
23:16, its appointment an hour ahead falling on the next day. Strict: once the waiting room shows them, this fails
and the mark comes off with the fix."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appointments.models import Appointment, Status
from meetings.models import Participant, Role
from tests.factories import make_appointment
from tests.helpers import logged_in, rewrite, staff

WAITING_ROOM = "/admin/appointments/appointment/waiting-room/"


@pytest.mark.xfail(strict=True, reason="the waiting room shows the staff member's today only (defect, not yet fixed)")
def test_a_claimant_waiting_before_midnight_for_an_appointment_just_after_it_is_shown_to_staff(department) -> None:
    night = datetime(2026, 12, 4, 23, 50, tzinfo=ZoneInfo(department.time_zone))
    with time_machine.travel(night, tick=False):
        appointment = make_appointment(department, appointment_at=night + timedelta(minutes=20))
        claimant = Participant.objects.filter(appointment=appointment, role=Role.CLAIMANT)
        rewrite(claimant, joined_waiting_at=night, last_seen_at=night)  # in the waiting room, polling
        rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.WAITING)
        page = logged_in(staff("desk", department)).get(WAITING_ROOM)
        assert page.status_code == 200
        assert appointment.pk in [row["appointment"].pk for row in page.context["rows"]]
