"""A claimant who came to the waiting room and was never admitted is not a no-show (issue 17.2): at the end of the
meeting the appointment is missed by the organisation. Its status is `cancelled` (a status every integration of
the original knows: it did not happen, and not by the claimant's fault), its reason says so, and the additive
`outcome: "missed_by_organisation"` marks it; `appointment.missed` is raised for webhooks; the claimant gets an
apology, not the cancellation message; staff see it under "Needs attention" until someone follows it up. Only a
claimant who never appeared becomes `no_show`. Every door: the worker's scheduled check, the command, and a real
run over time (time-machine) through the absence check that lets a silent claimant go first."""

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from appointments.local_time import local_label
from appointments.models import Appointment, Status
from events.models import Event
from meetings.models import Participant, Role
from notifications.models import Notification
from notifications.sms import MemoryBackend
from tests.factories import make_appointment
from tests.helpers import Receiver, claimant_joins, logged_in, run_command, run_tasks, staff
from webhooks.models import Endpoint

CLAIMANT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone_number": "+447911123456",
    "data": {"Case number": "C-1"},
}
REASON = "Missed by the organisation: the claimant came to the waiting room and the session was not started."
APOLOGY = "Sorry, your appointment could not go ahead"

LONDON = ZoneInfo("Europe/London")  # the test department's zone


@pytest.fixture(autouse=True)
def _outboxes(settings) -> Any:
    settings.SMS_BACKEND = "notifications.sms.MemoryBackend"
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    MemoryBackend.outbox.clear()
    yield
    MemoryBackend.outbox.clear()


def ahead(department: Any, hours: float = 2) -> Appointment:
    start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return make_appointment(department, appointment_at=start, duration_in_minutes=30, claimant=CLAIMANT)


def types(appointment: Appointment) -> list[str]:
    return list(Event.objects.filter(appointment=appointment).values_list("type", flat=True))


def assert_missed(appointment: Appointment) -> Appointment:
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert (fresh.status, fresh.outcome, fresh.cancellation_reason) == (
        Status.CANCELLED,
        "missed_by_organisation",
        REASON,
    )
    assert fresh.cancelled_at is not None
    assert types(appointment)[-4:] == [
        "appointment.updated",
        "appointment.status_changed",
        "appointment.cancelled",
        "appointment.missed",
    ]
    assert "appointment.no_show" not in types(appointment)
    return fresh


class TestARealRunOverTime:
    def test_a_claimant_let_go_by_the_absence_check_is_missed_not_a_no_show(self, department, agent) -> None:
        """The seam: the claimant waited, their page went silent, the absence check sent the appointment back to
        scheduled, and only then did the no-show check come."""
        appointment = ahead(department)
        with Receiver() as receiver:
            wanted = ["appointment.cancelled", "appointment.missed", "appointment.no_show"]
            Endpoint.objects.create(department=department, url=receiver.url, event_types=wanted)
            run_tasks()  # the booking's fan-out: the no-show check is enqueued for the end of the meeting
            with time_machine.travel(appointment.appointment_at - timedelta(minutes=10), tick=False) as clock:
                claimant_joins(appointment)
                run_tasks()
                clock.shift(timedelta(minutes=5))  # the page stopped polling (a closed lid, a lost connection)
                run_tasks()
                assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
                assert Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).left_at is not None
                clock.move_to(appointment.ends_at + timedelta(seconds=2))
                ran = run_tasks()
            assert "appointment_check_no_show" in ran
        missed = assert_missed(appointment)
        assert [event["type"] for event in receiver.events()] == ["appointment.cancelled", "appointment.missed"]
        sent = receiver.events()[-1]["data"]["appointment"]
        assert (sent["status"], sent["outcome"], sent["cancellation_reason"]) == (
            "cancelled",
            "missed_by_organisation",
            REASON,
        )
        assert missed.updated_at is not None
        # The claimant is told sorry, by email and text; the cancellation's wording is not sent.
        kinds = set(Notification.objects.filter(appointment=appointment).values_list("kind", "channel"))
        assert kinds == {(kind, channel) for kind in ("booked", "reminder", "missed") for channel in ("email", "sms")}
        [apology] = [message for message in mail.outbox if APOLOGY in message.body]
        assert "we will contact you" in apology.body.lower()
        assert "is cancelled" not in apology.body
        assert APOLOGY in apology.alternatives[0][0]  # type: ignore[attr-defined]
        assert any(APOLOGY.lower() in text.lower() for _to, text in MemoryBackend.outbox)

    def test_a_claimant_still_waiting_at_the_end_is_missed(self, department) -> None:
        appointment = ahead(department)
        run_tasks()
        with time_machine.travel(appointment.appointment_at - timedelta(minutes=5), tick=False) as clock:
            claimant_joins(appointment)
            Participant.objects.filter(appointment=appointment).update(last_seen_at=appointment.ends_at)
            clock.move_to(appointment.ends_at + timedelta(seconds=2))
            run_tasks()
        assert_missed(appointment)

    def test_a_claimant_who_never_came_is_a_no_show(self, department) -> None:
        appointment = ahead(department)
        run_tasks()
        with time_machine.travel(appointment.ends_at + timedelta(seconds=2), tick=False):
            run_tasks()
        fresh = Appointment.objects.get(pk=appointment.pk)
        assert (fresh.status, fresh.outcome, fresh.cancellation_reason) == (Status.NO_SHOW, None, None)
        assert types(appointment)[-2:] == ["appointment.status_changed", "appointment.no_show"]
        assert "appointment.missed" not in types(appointment)

    def test_waiting_for_an_earlier_time_does_not_count_for_the_new_one(self, department, agent) -> None:
        """The claimant came at the first time; the agent moved the appointment; at the new time nobody came."""
        from appointments.services import appointment_update

        appointment = ahead(department)
        with time_machine.travel(appointment.appointment_at - timedelta(minutes=10), tick=False):
            claimant = claimant_joins(appointment)
            from meetings.services.journey import participant_leave

            participant_leave(participant=claimant)
            later = appointment.appointment_at + timedelta(days=1)
            appointment_update(appointment=appointment, data={"appointment_at": later}, actor=agent.user)
        moved = Appointment.objects.get(pk=appointment.pk)
        run_tasks()
        with time_machine.travel(moved.ends_at + timedelta(seconds=2), tick=False):
            run_tasks()
        assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW


class TestTheCommand:
    def test_the_command_records_each_outcome_and_says_which(self, department) -> None:
        came = ahead(department)
        stayed_away = ahead(department)
        with time_machine.travel(came.appointment_at - timedelta(minutes=10), tick=False) as clock:
            claimant_joins(came)
            clock.move_to(max(came.ends_at, stayed_away.ends_at) + timedelta(minutes=1))
            lines = run_command("mark_no_shows")
        assert sorted(lines[:-2]) == sorted(
            [
                f"{came.pk} {came.reference}: waiting -> cancelled, missed by the organisation "
                f"(meeting ended {local_label(came.ends_at, LONDON)})",
                f"{stayed_away.pk} {stayed_away.reference}: scheduled -> no_show "
                f"(meeting ended {local_label(stayed_away.ends_at, LONDON)})",
            ]
        )
        assert lines[-2:] == [
            "Recorded 1 appointment(s) as missed by the organisation.",
            "Marked 1 appointment(s) as no-show.",
        ]
        assert_missed(came)
        assert Appointment.objects.get(pk=stayed_away.pk).status == Status.NO_SHOW


class TestNotANoShowByHand:
    def test_the_api_refuses_a_no_show_for_a_claimant_who_came(self, api, department) -> None:
        appointment = ahead(department)
        with time_machine.travel(appointment.appointment_at - timedelta(minutes=10), tick=False) as clock:
            claimant_joins(appointment)
            clock.move_to(appointment.appointment_at + timedelta(minutes=20))
            response = api.patch(f"/api/v1/appointments/{appointment.pk}", {"status": "no_show"}, format="json")
        joined = appointment.appointment_at - timedelta(minutes=10)
        message = (
            f"The claimant joined the waiting room at {local_label(joined, LONDON)}, so this is not a no-show; "
            "cancel the appointment instead if it cannot go ahead."
        )
        assert response.status_code == 422
        assert response.json() == {"message": message, "errors": {"status": [message]}}
        assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING


class TestWhatEachOneSees:
    def missed(self, department: Any) -> Appointment:
        appointment = ahead(department)
        with time_machine.travel(appointment.appointment_at - timedelta(minutes=10), tick=False) as clock:
            claimant_joins(appointment)
            clock.move_to(appointment.ends_at + timedelta(seconds=1))
            run_command("mark_no_shows")
        return assert_missed(appointment)

    def test_the_representation_carries_the_outcome_and_others_do_not(self, api, department) -> None:
        missed = self.missed(department)
        other = ahead(department, hours=3)
        body = api.get(f"/api/v1/appointments/{missed.pk}").json()["data"]
        assert body["outcome"] == "missed_by_organisation"
        assert list(body)[-1] == "outcome"  # additive: after the contract's keys
        assert "outcome" not in api.get(f"/api/v1/appointments/{other.pk}").json()["data"]
        listed = {item["id"]: item for item in api.get("/api/v1/appointments").json()["data"]}
        assert listed[str(missed.pk)]["outcome"] == "missed_by_organisation"
        assert "outcome" not in listed[str(other.pk)]

    def test_the_claimants_page_says_sorry_and_stops(self, client, department) -> None:
        missed = self.missed(department)
        page = client.get(f"/join/{missed.public_token}").content.decode()
        assert APOLOGY in page
        assert "We will contact you" in page
        assert "was cancelled" not in page
        assert "did not take place" not in page
        assert client.get(f"/join/{missed.public_token}/status").json()["state"] == "missed"

    def test_staff_see_it_under_needs_attention_until_someone_follows_it_up(self, department) -> None:
        user = staff("desk", department)
        desk = logged_in(user)
        missed = self.missed(department)
        attention = "/admin/appointments/appointment/?show=attention"
        listed = desk.get(attention)
        assert [a.reference for a in listed.context["cl"].result_list] == [missed.reference]
        assert "Missed by the organisation" in listed.content.decode()
        change_page = desk.get(f"/admin/appointments/appointment/{missed.pk}/change/").content.decode()
        assert "not followed up yet" in change_page
        done = desk.post(attention, {"action": "mark_followed_up", "_selected_action": [str(missed.pk)]}, follow=True)
        assert "1 appointment marked as followed up." in [str(m) for m in done.context["messages"]]
        fresh = Appointment.objects.get(pk=missed.pk)
        assert fresh.followed_up_by == user
        assert fresh.followed_up_at is not None
        assert list(desk.get(attention).context["cl"].result_list) == []
        assert (
            "followed up by desk" in desk.get(f"/admin/appointments/appointment/{missed.pk}/change/").content.decode()
        )
        # Following up is the organisation's own record: the appointment's representation and events stay as they were.
        assert types(missed)[-1] == "appointment.missed"

    def test_following_up_is_only_for_missed_appointments(self, department) -> None:
        desk = logged_in(staff("desk", department))
        other = ahead(department)
        done = desk.post(
            "/admin/appointments/appointment/?show=all",
            {"action": "mark_followed_up", "_selected_action": [str(other.pk)]},
            follow=True,
        )
        texts = [str(m) for m in done.context["messages"]]
        assert f"{other.reference}: Only an appointment missed by the organisation is followed up." in texts
        assert Appointment.objects.get(pk=other.pk).followed_up_at is None

    def test_webhook_endpoints_may_ask_for_it(self, superuser) -> None:
        from webhooks.models import SUBSCRIBABLE

        assert "appointment.missed" in SUBSCRIBABLE
