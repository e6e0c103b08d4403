"""Status changes keep to time (issue 17.5): a no-show only from the start plus NO_SHOW_GRACE_MINUTES (or the end,
when that comes first), a session starts only inside the join window, `waiting` only while the claimant is in the
waiting room. The rule is the service's, so every door (the API's PATCH and its POST override, the back office's
change page, its actions and the waiting room's Start, the commands, the claimant's page) gives the same 422 on
`status` and changes nothing. The clock is moved with time-machine; personas' tokens last a day, so the
appointments here are a couple of hours ahead."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from appointments.local_time import local_label, local_span
from appointments.models import Appointment, Status
from appointments.services import appointment_update
from meetings.models import Participant, Role
from meetings.services.journey import participant_leave
from tests.factories import make_appointment
from tests.helpers import admin_change_url, admin_form_data, claimant_joins, logged_in, rewrite, snapshot, staff
from tests.helpers import patch_url as url

CLAIMANT = {"name": "Ada Lovelace", "email": "ada@example.com", "data": {"Case number": "C-1"}}
NO_SHOW_TOO_EARLY = "A no-show can be recorded only from {}, 15 minutes after the start."
OUTSIDE_WINDOW = "The session can start only inside the join window, {}."
LONDON = ZoneInfo("Europe/London")  # the test department's zone
NOBODY_WAITING = "The appointment can be waiting only while the claimant is in the waiting room."


def ahead(department: Any, hours: float = 2, minutes: int = 60) -> Appointment:
    start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return make_appointment(department, appointment_at=start, duration_in_minutes=minutes, claimant=CLAIMANT)


def errors_of(appointment: Appointment, target: str) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        appointment_update(appointment=appointment, data={"status": target}, actor=None)
    return caught.value.message_dict


@pytest.fixture
def at() -> Iterator[Any]:
    """Moves the clock to a moment (and back at the end of the test)."""
    travels: list[Any] = []

    def move(moment: Any) -> None:
        if travels:
            travels.pop().stop()
        travel = time_machine.travel(moment, tick=False)
        travel.start()
        travels.append(travel)

    yield move
    for travel in travels:
        travel.stop()


def _minute(moment: Any) -> str:
    return local_label(moment, LONDON)  # the department's zone, labelled (issue 17.10)


class TestTheRule:
    def test_a_no_show_only_from_the_start_plus_the_grace(self, department, at) -> None:
        appointment = ahead(department)
        grace_ends = appointment.appointment_at + timedelta(minutes=15)
        message = NO_SHOW_TOO_EARLY.format(_minute(grace_ends))
        for moment in (timezone.now(), appointment.appointment_at, grace_ends - timedelta(seconds=1)):
            at(moment)
            assert errors_of(appointment, Status.NO_SHOW) == {"status": [message]}
            assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
        at(grace_ends)
        appointment_update(appointment=appointment, data={"status": Status.NO_SHOW}, actor=None)
        assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW

    def test_a_short_appointment_may_be_a_no_show_at_its_end(self, department, at, settings) -> None:
        appointment = ahead(department, minutes=10)
        at(appointment.ends_at - timedelta(seconds=1))
        message = "A no-show can be recorded only from {}, the end of the appointment."
        assert errors_of(appointment, Status.NO_SHOW) == {"status": [message.format(_minute(appointment.ends_at))]}
        at(appointment.ends_at)
        appointment_update(appointment=appointment, data={"status": Status.NO_SHOW}, actor=None)
        assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW

    def test_the_grace_is_a_setting(self, department, at, settings) -> None:
        settings.NO_SHOW_GRACE_MINUTES = 5
        appointment = ahead(department)
        at(appointment.appointment_at + timedelta(minutes=4, seconds=59))
        message = "A no-show can be recorded only from {}, 5 minutes after the start."
        five = appointment.appointment_at + timedelta(minutes=5)
        assert errors_of(appointment, Status.NO_SHOW) == {"status": [message.format(_minute(five))]}
        at(five)
        appointment_update(appointment=appointment, data={"status": Status.NO_SHOW}, actor=None)
        assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW

    def test_a_session_starts_only_inside_the_join_window(self, department, at) -> None:
        appointment = ahead(department)
        opens = appointment.appointment_at - timedelta(minutes=30)
        closes = appointment.ends_at + timedelta(minutes=15)
        message = OUTSIDE_WINDOW.format(local_span(opens, closes, LONDON))
        for moment in (opens - timedelta(seconds=1), closes + timedelta(seconds=1)):
            at(moment)
            assert errors_of(appointment, Status.IN_PROGRESS) == {"status": [message]}
            assert snapshot(appointment)["session_started_at"] is None
        for moment in (opens, closes):
            at(moment)
            appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
            assert Appointment.objects.get(pk=appointment.pk).status == Status.IN_PROGRESS
            rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.SCHEDULED, session_started_at=None)

    def test_waiting_only_while_the_claimant_is_in_the_waiting_room(self, department, agent, at) -> None:
        appointment = ahead(department)
        assert errors_of(appointment, Status.WAITING) == {"status": [NOBODY_WAITING]}
        at(appointment.appointment_at - timedelta(minutes=10))
        assert errors_of(appointment, Status.WAITING) == {"status": [NOBODY_WAITING]}  # the window alone is not enough
        claimant = claimant_joins(appointment)  # through the page's services: the claimant's join makes it waiting
        assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING
        # An agent sends them back to scheduled by mistake: they are still in the room, so waiting is right again.
        appointment_update(appointment=appointment, data={"status": Status.SCHEDULED}, actor=agent.user)
        appointment_update(appointment=appointment, data={"status": Status.WAITING}, actor=agent.user)
        assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING
        participant_leave(participant=claimant)  # gone: back to scheduled, and waiting is refused again
        assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
        assert errors_of(appointment, Status.WAITING) == {"status": [NOBODY_WAITING]}

    def test_someone_else_in_the_waiting_room_is_not_the_claimant(self, department, agent, at) -> None:
        appointment = ahead(department)
        at(appointment.appointment_at - timedelta(minutes=10))
        claimant_joins(appointment)
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        participant_leave(participant=claimant)
        # Another participant's link (revoked here, or an interpreter) does not make the claimant wait.
        rewrite(Participant.objects.filter(pk=claimant.pk), left_at=None, revoked_at=timezone.now())
        assert errors_of(appointment, Status.WAITING) == {"status": [NOBODY_WAITING]}


class TestEveryDoor:
    def test_the_api_patch_and_its_post_override(self, api, department) -> None:
        appointment = ahead(department)
        before = snapshot(appointment)
        grace_ends = appointment.appointment_at + timedelta(minutes=15)
        opens = appointment.appointment_at - timedelta(minutes=30)
        closes = appointment.ends_at + timedelta(minutes=15)
        expected = {
            "no_show": NO_SHOW_TOO_EARLY.format(_minute(grace_ends)),
            "in_progress": OUTSIDE_WINDOW.format(local_span(opens, closes, LONDON)),
            "waiting": NOBODY_WAITING,
        }
        for status, message in expected.items():
            for response in (
                api.patch(url(appointment), {"status": status}, format="json"),
                api.post(url(appointment, "?_method=PATCH"), {"status": status}),
            ):
                assert response.status_code == 422, response.content
                assert response.json() == {"message": message, "errors": {"status": [message]}}
        assert snapshot(appointment) == before

    def test_the_api_answers_the_right_moment_with_200(self, api, department, at) -> None:
        appointment = ahead(department)
        at(appointment.appointment_at + timedelta(minutes=15))
        response = api.patch(url(appointment), {"status": "no_show"}, format="json")
        assert response.status_code == 200, response.content
        assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW

    def test_the_back_office_change_page(self, department) -> None:
        desk = logged_in(staff("desk-agent", department))
        appointment = ahead(department)
        before = snapshot(appointment)
        for status in ("no_show", "in_progress", "waiting"):
            data = admin_form_data(desk, appointment) | {"status": status}
            response = desk.post(admin_change_url(appointment), data)
            assert response.status_code == 200  # the form again, with the service's message on the status
            assert list(response.context["adminform"].form.errors) == ["status"]
        assert snapshot(appointment) == before

    @pytest.mark.parametrize(
        ("action", "message"),
        [("mark_no_show", "A no-show can be recorded only from"), ("start_session", "The session can start only"),
         ("mark_waiting", NOBODY_WAITING)],
    )  # fmt: skip
    def test_the_back_office_actions(self, department, action: str, message: str) -> None:
        desk = logged_in(staff("desk-agent", department))
        appointment = ahead(department)
        before = snapshot(appointment)
        response = desk.post(
            "/admin/appointments/appointment/?show=all",
            {"action": action, "_selected_action": [str(appointment.pk)]},
            follow=True,
        )
        texts = [str(m) for m in response.context["messages"]]
        assert any(text.startswith(f"{appointment.reference}: {message}") for text in texts), texts
        assert snapshot(appointment) == before

    def test_the_waiting_rooms_start(self, department) -> None:
        desk: Client = logged_in(staff("desk-agent", department))
        appointment = ahead(department)
        before = snapshot(appointment)
        response = desk.post(f"/admin/appointments/appointment/{appointment.pk}/start/", follow=True)
        texts = [str(m) for m in response.context["messages"]]
        assert any("The session can start only inside the join window" in text for text in texts), texts
        assert snapshot(appointment) == before

    def test_the_claimants_page_makes_it_waiting_by_joining(self, client, department, at) -> None:
        appointment = ahead(department)
        page = f"/join/{appointment.public_token}"
        at(appointment.appointment_at - timedelta(minutes=10))
        client.get(page)  # the page is opened first: its cookie keeps the link to this browser
        checks = {"camera": True, "microphone": True}
        assert client.post(f"{page}/device-check", checks, content_type="application/json").status_code == 200
        assert client.post(f"{page}/join", {}, content_type="application/json").json() == {"state": "waiting"}
        assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING

    def test_the_no_show_command_keeps_to_the_rule_with_its_own_clock(self, department) -> None:
        from appointments.services import appointment_mark_no_shows

        appointment = ahead(department)
        # A clock at the meeting's end (passed as the command's `now`) may mark it; the real one, hours before, may
        # not: the rule reads the same moment as the choice of what is due.
        assert appointment_mark_no_shows(now=appointment.ends_at + timedelta(seconds=1))
        assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW
