"""A call that runs over (issue 17.3). While the session is in progress every participant can rejoin with a valid
token, however long it runs past its end plus JOIN_GRACE_MINUTES; the agent can extend it while it is in progress
(through the service: the API, the back office and the meeting page agree, and the agent's other appointments must
not clash); one that nobody ended is listed under "Needs attention" after its end, and completed by itself (with
`meeting.abandoned` and its webhook) once no participant's page has been open for SESSION_ABANDONED_MINUTES.

Across time with time-machine: before the end, after the end plus the grace while in progress, after the idle
time."""

import json
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from appointments.local_time import local_label
from appointments.models import Appointment, Status
from appointments.selectors import appointments_in_view
from appointments.services import appointment_update
from events.models import Event
from meetings.models import Participant, Role
from notifications.models import Notification
from tests.factories import make_appointment
from tests.helpers import Receiver, logged_in, run_command, run_tasks, staff, walk_to
from webhooks.models import Endpoint

SECRET = "overrun-secret-0123456789abcdef0123456789"
CLAIMANT = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}


@pytest.fixture(autouse=True)
def _tokens(settings) -> None:
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = SECRET
    settings.JOIN_GRACE_MINUTES = 15
    settings.SESSION_ABANDONED_MINUTES = 10
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000


@pytest.fixture
def dana(department) -> Any:
    return staff("dana", department)


def booked(department, agent: Any = None, hours: float = 2, minutes: int = 30) -> Appointment:
    from django.utils import timezone

    start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return make_appointment(
        department,
        appointment_at=start,
        duration_in_minutes=minutes,
        claimant=CLAIMANT,
        **({"agent_id": agent.pk} if agent is not None else {}),
    )


def in_session(appointment: Appointment, client: Client) -> Appointment:
    """The claimant joins the waiting room from their page (over HTTP, `client` is their browser), the agent starts
    the session: both inside the join window."""
    with time_machine.travel(appointment.appointment_at - timedelta(minutes=5), tick=False):
        url = f"/join/{appointment.public_token}"
        client.get(url)
        for step, body in (("/device-check", {"camera": True, "microphone": True}), ("/identity", _born())):
            assert client.post(url + step, json.dumps(body), content_type="application/json").status_code == 200
        assert _post(client, url + "/join").json() == {"state": "waiting"}
    with time_machine.travel(appointment.appointment_at, tick=False):
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=None)
    return Appointment.objects.with_related().get(pk=appointment.pk)


def _born() -> dict[str, str]:
    return {"date_of_birth": "1990-05-17"}


def _post(client: Client, url: str) -> Any:
    return client.post(url, "{}", content_type="application/json")


def token_of(html: str) -> dict[str, Any]:
    options = json.loads(html.split('id="meeting-options" type="application/json">', 1)[1].split("</script>", 1)[0])
    unchecked: Any = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}  # read at another moment
    return jwt.decode(options["jwt"], SECRET, algorithms=["HS256"], audience="jitsi", options=unchecked)


def claimant_of(appointment: Appointment) -> Participant:
    return Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)


class TestRejoining:
    def test_before_the_end_the_claimant_is_in_the_meeting_with_the_windows_token(self, client, department) -> None:
        appointment = in_session(booked(department), client)
        with time_machine.travel(appointment.ends_at - timedelta(minutes=1), tick=False):
            response = client.get(f"/join/{appointment.public_token}")
        assert response.context["state"] == "meeting"
        claims = token_of(response.content.decode())
        assert claims["exp"] == int((appointment.ends_at + timedelta(minutes=15)).timestamp())

    def test_after_the_end_and_grace_a_reload_gets_in_with_a_token_still_valid(self, client, department) -> None:
        appointment = in_session(booked(department), client)
        late = appointment.ends_at + timedelta(minutes=40)  # the call runs 40 minutes over, 25 past the grace
        with time_machine.travel(late, tick=False):
            response = client.get(f"/join/{appointment.public_token}")
            assert response.context["state"] == "meeting"
            assert "has passed" not in response.content.decode()
            claims = token_of(response.content.decode())
            assert claims["exp"] == int((late + timedelta(minutes=15)).timestamp())
            # Verified as the video platform would, at that moment: not expired.
            jwt.decode(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET, algorithms=["HS256"], audience="jitsi")

    def test_a_participant_who_left_after_the_grace_joins_again(self, client, department) -> None:
        appointment = in_session(booked(department), client)
        url = f"/join/{appointment.public_token}"
        with time_machine.travel(appointment.ends_at + timedelta(minutes=30), tick=False):
            assert _post(client, url + "/leave").json() == {"state": "checks"}  # closed the call by mistake
            page = client.get(url)
            assert page.context["state"] == "checks"
            assert "Join now" in page.content.decode()
            assert _post(client, url + "/join").json() == {"state": "meeting"}
        assert claimant_of(appointment).left_at is None

    def test_once_completed_the_link_lets_nobody_in(self, client, department) -> None:
        appointment = in_session(booked(department), client)
        with time_machine.travel(appointment.ends_at + timedelta(minutes=30), tick=False):
            appointment_update(appointment=appointment, data={"status": Status.COMPLETED}, actor=None)
            assert client.get(f"/join/{appointment.public_token}").context["state"] == "completed"

    def test_a_window_that_closed_without_a_session_stays_closed(self, client, department) -> None:
        appointment = booked(department)
        with time_machine.travel(appointment.ends_at + timedelta(minutes=16), tick=False):
            assert client.get(f"/join/{appointment.public_token}").context["state"] == "closed"


class TestExtending:
    def test_the_api_extends_a_session_in_progress_and_the_meeting_follows(self, client, department, agent) -> None:
        appointment = in_session(booked(department), client)
        api = agent.client()
        with time_machine.travel(appointment.ends_at + timedelta(minutes=20), tick=False):
            response = api.patch(f"/api/v1/appointments/{appointment.pk}", {"duration_in_minutes": 60}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["data"]["duration_in_minutes"] == 60
        fresh = Appointment.objects.with_related().get(pk=appointment.pk)
        assert (fresh.status, fresh.duration_in_minutes) == (Status.IN_PROGRESS, 60)
        assert fresh.meeting.end_date == fresh.appointment_at + timedelta(minutes=60)
        # Nothing is sent to the claimant for an extension made during the call.
        run_tasks()
        assert not Notification.objects.filter(appointment=appointment, kind="rescheduled").exists()

    def test_shortening_or_moving_a_session_in_progress_is_refused(self, client, department, agent) -> None:
        appointment = in_session(booked(department), client)
        api = agent.client()
        with time_machine.travel(appointment.appointment_at + timedelta(minutes=5), tick=False):
            shorter = api.patch(f"/api/v1/appointments/{appointment.pk}", {"duration_in_minutes": 20}, format="json")
            moved = api.patch(
                f"/api/v1/appointments/{appointment.pk}",
                {"appointment_at": (appointment.appointment_at + timedelta(hours=1)).isoformat()},
                format="json",
            )
        assert shorter.status_code == 422
        assert "can only be extended" in shorter.json()["errors"]["duration_in_minutes"][0]
        assert moved.status_code == 422
        assert "appointment_at" in moved.json()["errors"]
        assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 30

    def test_an_extension_that_clashes_with_the_agents_next_appointment_is_refused(
        self, client, department, dana
    ) -> None:
        appointment = in_session(booked(department, dana), client)
        make_appointment(
            department,
            appointment_at=appointment.ends_at + timedelta(minutes=10),
            duration_in_minutes=30,
            claimant={**CLAIMANT, "name": "Next"},
            agent_id=dana.pk,
        )
        with time_machine.travel(appointment.ends_at - timedelta(minutes=1), tick=False):
            with pytest.raises(ValidationError, match="already has appointment"):
                appointment_update(appointment=appointment, data={"duration_in_minutes": 45}, actor=dana)
            appointment_update(appointment=appointment, data={"duration_in_minutes": 40}, actor=dana)  # fits
        assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 40

    def test_the_meeting_page_extends_ends_and_beats(self, client, department, dana) -> None:
        appointment = in_session(booked(department, dana), client)
        desk = logged_in(dana)
        meeting = reverse("admin:appointments_appointment_meeting", args=[appointment.pk])
        late = appointment.ends_at + timedelta(minutes=20)
        with time_machine.travel(late, tick=False):
            # Listed under Needs attention, with its Join button (the window has closed, the call goes on).
            listed = desk.get(reverse("admin:appointments_appointment_changelist") + "?show=attention").content.decode()
            assert appointment.reference in listed
            assert f'href="{meeting}"' in listed
            page = desk.get(meeting).content.decode()
            assert "Running over" in page
            assert "Extend by 15 minutes" in page
            assert "End the session" in page
            assert desk.post(meeting + "extend/", {"duration_in_minutes": "45"}).status_code == 302
            again = desk.post(meeting + "extend/", {"duration_in_minutes": "45"})  # a second tab: no harm
            assert again.status_code == 302
            assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 45
            assert desk.post(meeting + "extend/", {"duration_in_minutes": "30"}).status_code == 302  # shorter
            assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 45
            assert desk.post(meeting + "heartbeat/").status_code == 204
            assert desk.get(meeting + "heartbeat/").status_code == 405
        agent = Participant.objects.get(appointment=appointment, role=Role.AGENT)
        assert agent.last_seen_at == late
        with time_machine.travel(late + timedelta(minutes=1), tick=False):
            ended = desk.post(meeting + "end/")
        assert ended.status_code == 302
        assert ended["Location"] == reverse("admin:appointments_appointment_change", args=[appointment.pk])
        fresh = Appointment.objects.get(pk=appointment.pk)
        assert (fresh.status, fresh.session_ended_at) == (Status.COMPLETED, late + timedelta(minutes=1))

    def test_the_change_page_extends_a_session_in_progress(self, client, department, dana) -> None:
        from tests.helpers import admin_change_url, admin_form_data

        appointment = in_session(booked(department, dana), client)
        desk = logged_in(dana)
        with time_machine.travel(appointment.ends_at + timedelta(minutes=5), tick=False):
            data = admin_form_data(desk, appointment)
            data["duration_in_minutes"] = "50"
            response = desk.post(admin_change_url(appointment), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 50


class TestASessionNobodyEnded:
    def test_needs_attention_after_its_end_then_completed_once_every_page_is_closed(
        self, client, department, dana
    ) -> None:
        appointment = booked(department, dana)
        run_tasks()
        with Receiver() as receiver:
            wanted = ["meeting.ended", "meeting.abandoned"]
            Endpoint.objects.create(department=department, url=receiver.url, event_types=wanted)
            appointment = in_session(appointment, client)
            status_url = f"/join/{appointment.public_token}/status"
            attention = Appointment.objects.filter(pk=appointment.pk)
            with time_machine.travel(appointment.ends_at - timedelta(minutes=1), tick=False) as clock:
                run_tasks()
                assert not appointments_in_view(attention, "attention", appointment.zone, _now())
                # The claimant's page keeps polling past the end: attended, so not completed, but needs attention.
                for _minute in range(20):
                    clock.shift(timedelta(minutes=1))
                    assert client.get(status_url).status_code == 200
                    run_tasks(until=_now())
                last_poll = _now()
                assert Appointment.objects.get(pk=appointment.pk).status == Status.IN_PROGRESS
                assert list(appointments_in_view(attention, "attention", appointment.zone, _now())) == [appointment]
                # The page closes. Nine minutes later it is still in progress; after ten it is completed.
                clock.shift(timedelta(minutes=9))
                run_tasks(until=_now())
                assert Appointment.objects.get(pk=appointment.pk).status == Status.IN_PROGRESS
                clock.shift(timedelta(minutes=1, seconds=2))
                ran = run_tasks(until=_now())
            assert "appointment_check_abandoned" in ran
            fresh = Appointment.objects.get(pk=appointment.pk)
            assert (fresh.status, fresh.session_ended_at) == (Status.COMPLETED, last_poll)
            assert not appointments_in_view(attention, "attention", appointment.zone, _now())
            types = list(Event.objects.filter(appointment=appointment).values_list("type", flat=True))
            assert types[-4:] == [
                "appointment.updated",
                "appointment.status_changed",
                "meeting.ended",
                "meeting.abandoned",
            ]
            abandoned = Event.objects.get(appointment=appointment, type="meeting.abandoned")
            assert abandoned.content["abandoned"]["idle_minutes"] == 10
            run_tasks()
            sent = receiver.events()
        assert [event["type"] for event in sent] == ["meeting.ended", "meeting.abandoned"]
        assert sent[-1]["data"]["appointment"]["status"] == "completed"

    def test_the_agents_open_meeting_page_keeps_it_going(self, client, department, dana) -> None:
        appointment = in_session(booked(department, dana), client)
        claimant_left = appointment.ends_at - timedelta(minutes=1)
        with time_machine.travel(claimant_left, tick=False) as clock:
            _post(client, f"/join/{appointment.public_token}/leave")
            desk = logged_in(dana)
            meeting = reverse("admin:appointments_appointment_meeting", args=[appointment.pk])
            for _minute in range(15):
                clock.shift(timedelta(minutes=1))
                assert desk.post(meeting + "heartbeat/").status_code == 204
            assert run_command("complete_abandoned_sessions")[-1].startswith("Completed 0 session(s)")
            clock.shift(timedelta(minutes=10, seconds=1))
            lines = run_command("complete_abandoned_sessions")
        assert lines[-1].startswith("Completed 1 session(s)")
        assert appointment.reference in lines[0]
        assert Appointment.objects.get(pk=appointment.pk).status == Status.COMPLETED

    def test_a_session_ended_by_the_agent_is_left_alone(self, client, department) -> None:
        appointment = in_session(booked(department), client)
        with time_machine.travel(appointment.ends_at - timedelta(minutes=5), tick=False):
            appointment_update(appointment=appointment, data={"status": Status.COMPLETED}, actor=None)
        with time_machine.travel(appointment.ends_at + timedelta(hours=2), tick=False):
            run_tasks()
            assert run_command("complete_abandoned_sessions")[-1].startswith("Completed 0 session(s)")
        assert not Event.objects.filter(appointment=appointment, type="meeting.abandoned").exists()

    def test_walked_to_in_progress_without_any_page_it_completes_at_its_end_plus_idle(self, department) -> None:
        appointment = walk_to(booked(department), Status.IN_PROGRESS)
        with time_machine.travel(appointment.ends_at + timedelta(seconds=1), tick=False):
            # Nobody's page was open since the start, long before: due at the end itself.
            lines = run_command("complete_abandoned_sessions")
        assert lines[-1].startswith("Completed 1 session(s)")
        assert Appointment.objects.get(pk=appointment.pk).session_ended_at == appointment.appointment_at
        # Its time as every time a person reads (issue 17.10): the department's zone, labelled.
        last_open = local_label(appointment.appointment_at, ZoneInfo("Europe/London"))
        assert (
            lines[0]
            == f"{appointment.pk} {appointment.reference}: in_progress -> completed (last page open {last_open})"
        )


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
