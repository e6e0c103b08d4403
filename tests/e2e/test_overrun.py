"""A call that runs over (issue 17.3), in a real browser against a real server: the claimant is in the meeting, the
call goes on past its end and the join grace (the server's clock moved with time-machine, which the live server in
this process shares), the claimant's connection drops and they reload the page: they get back in, with a token the
video platform still accepts, not "The time for this appointment has passed"."""

from datetime import timedelta
from typing import Any

import jwt
import pytest
import time_machine

from appointments.models import Appointment, Status
from tests.e2e import test_claimant_journey as journeys
from tests.e2e.test_device_check import into_the_meeting

pytestmark = pytest.mark.django_db(transaction=True)
journey = journeys.journey
video_stub = journeys.video_stub


def test_a_claimant_reloading_after_the_end_while_the_session_goes_on_gets_back_in(
    page: Any, journey: dict[str, Any]
) -> None:
    appointment: Appointment = journey["appointment"]
    page.goto(appointment.url)
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    into_the_meeting(page, journey)

    late = appointment.ends_at + timedelta(minutes=25)  # ten minutes past the end plus JOIN_GRACE_MINUTES
    with time_machine.travel(late, tick=True):
        page.reload()
        page.wait_for_selector("#stub-meeting", timeout=15_000)
        assert "has passed" not in page.content()
        token = page.evaluate("() => window.__jitsi.options.jwt")
        # Checked as the video platform checks it, now: valid, for this room.
        claims = jwt.decode(token, journeys.SECRET, algorithms=["HS256"], audience="jitsi")
        assert claims["exp"] > int(late.timestamp())
        assert Appointment.objects.get(pk=appointment.pk).status == Status.IN_PROGRESS
    assert page.console_errors == []
