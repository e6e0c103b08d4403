"""Events are written by the services, in the transaction of the change: every entry point (API, back office
change page and actions, commands, the claimant's page) raises the same ones, an error raises none, and each
carries the appointment exactly as the API returns it."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from events.models import Event
from meetings.models import Meeting
from tests.factories import in_days, make_appointment
from tests.helpers import (
    admin_change_url,
    admin_form_data,
    claimant_waits_while_scheduled,
    logged_in,
    patch_url,
    rewrite,
    run_command,
    staff,
)


def types(appointment: Appointment) -> list[str]:
    return list(Event.objects.filter(appointment=appointment).values_list("type", flat=True))


def latest(appointment: Appointment, event_type: str) -> dict[str, Any]:
    return Event.objects.filter(appointment=appointment, type=event_type).latest("sequence").content


@pytest.fixture
def desk(department) -> Client:
    return logged_in(staff("desk-agent", department))


class TestWhatIsRecorded:
    def test_a_create_over_the_api_records_created_with_the_response_body(self, api, department) -> None:
        body = {
            "appointment_at": in_days(3).isoformat(),
            "duration_in_minutes": 30,
            "claimant": {"name": "Grace Hopper", "data": [{"name": "Case number", "value": "C-9"}]},
        }
        response = api.post("/api/v1/appointments", body, format="json")
        assert response.status_code == 201
        created = Appointment.objects.get(pk=response.json()["data"]["id"])
        assert types(created) == ["appointment.created"]
        event = Event.objects.get(appointment=created)
        assert event.department_id == department.pk
        # The representation exactly as the API answered it: same keys, same order, same values.
        assert json.loads(event.data, object_pairs_hook=list)[0] == (
            "appointment",
            json.loads(response.content, object_pairs_hook=list)[0][1],
        )

    def test_a_patch_records_updated_with_field_names_then_rescheduled_with_both_times(self, api, appointment) -> None:
        old_at = appointment.appointment_at
        new_at = in_days(5, hour=9)
        body = {"appointment_at": new_at.isoformat(), "interpreter_language": None, "claimant": {"name": "New"}}
        response = api.patch(patch_url(appointment), body, format="json")
        assert response.status_code == 200
        assert types(appointment) == ["appointment.created", "appointment.updated", "appointment.rescheduled"]
        updated = latest(appointment, "appointment.updated")
        assert updated["changed_fields"] == ["appointment_at", "claimant.name"]
        assert updated["appointment"] == response.json()["data"]
        # ...and as a fresh read answers it (the PATCH answered with the events' representation).
        assert updated["appointment"] == api.get(patch_url(appointment)).json()["data"]
        rescheduled = latest(appointment, "appointment.rescheduled")
        assert rescheduled["previous"]["appointment_at"] == old_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert rescheduled["current"] == {
            "appointment_at": new_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "duration_in_minutes": 60,
        }

    def test_a_session_records_status_changes_and_the_meeting_starting_and_ending(self, api, department) -> None:
        # Ten minutes ahead: the join window is open, so the session may start (issue 17.5).
        soon = timezone.now() + timedelta(minutes=10)
        claimant = {"name": "Ada", "data": {"Case number": "C-1"}}
        appointment = make_appointment(department, appointment_at=soon, claimant=claimant)
        for status in ("in_progress", "completed"):
            assert api.patch(patch_url(appointment), {"status": status}, format="json").status_code == 200
        assert types(appointment)[1:] == [
            "appointment.updated",
            "appointment.status_changed",
            "meeting.started",
            "appointment.updated",
            "appointment.status_changed",
            "meeting.ended",
        ]
        assert latest(appointment, "appointment.status_changed") | {"appointment": None} == {
            "appointment": None,
            "from": "in_progress",
            "to": "completed",
        }

    def test_cancelling_records_cancelled(self, api, appointment) -> None:
        response = api.post(
            f"/api/v1/appointments/{appointment.pk}/cancel", {"cancellation_reason": "Withdrawn"}, format="json"
        )
        assert response.status_code == 200
        assert types(appointment)[-2:] == ["appointment.status_changed", "appointment.cancelled"]
        assert latest(appointment, "appointment.cancelled")["appointment"]["cancellation_reason"] == "Withdrawn"

    def test_a_request_that_changes_nothing_records_nothing(self, api, appointment) -> None:
        before = Event.objects.count()
        assert api.patch(patch_url(appointment), {}, format="json").status_code == 200
        same = {"duration_in_minutes": appointment.duration_in_minutes}
        assert api.patch(patch_url(appointment), same, format="json").status_code == 200
        assert Event.objects.count() == before

    def test_a_refused_change_records_nothing_and_enqueues_nothing(self, api, appointment) -> None:
        events, tasks = Event.objects.count(), DBTaskResult.objects.count()
        response = api.patch(patch_url(appointment), {"status": "completed", "duration_in_minutes": 1}, format="json")
        assert response.status_code == 422
        assert (Event.objects.count(), DBTaskResult.objects.count()) == (events, tasks)

    def test_a_change_rolled_back_takes_its_event_and_task_with_it(self, appointment, agent) -> None:
        events, tasks = Event.objects.count(), DBTaskResult.objects.count()
        seen_inside: list[int] = []

        def change_then_fail() -> None:
            with transaction.atomic():
                appointment_update(appointment=appointment, data={"duration_in_minutes": 25}, actor=agent.user)
                seen_inside.append(Event.objects.count())
                raise RuntimeError("the database went away before the commit")

        with pytest.raises(RuntimeError):
            change_then_fail()
        assert seen_inside == [events + 2]  # updated, rescheduled
        assert (Event.objects.count(), DBTaskResult.objects.count()) == (events, tasks)
        assert Appointment.objects.get(pk=appointment.pk).duration_in_minutes == 60

    def test_one_task_fans_out_the_events_of_one_change(self, api, appointment) -> None:
        tasks = DBTaskResult.objects.count()
        api.post(f"/api/v1/appointments/{appointment.pk}/cancel", {}, format="json")
        assert DBTaskResult.objects.count() == tasks + 1
        task = DBTaskResult.objects.latest("enqueued_at")
        assert task.task_path == "events.tasks.events_dispatch"
        recorded = Event.objects.filter(appointment=appointment, type__startswith="appointment.").exclude(
            type="appointment.created"
        )
        assert task.args_kwargs["args"] == [[str(e.id) for e in recorded]]

    def test_events_can_be_switched_off_for_benchmarks(self, api, appointment, settings) -> None:
        settings.EVENTS_ENABLED = False
        assert api.patch(patch_url(appointment), {"duration_in_minutes": 25}, format="json").status_code == 200
        assert types(appointment) == ["appointment.created"]


class TestEveryEntryPoint:
    def test_the_back_office_change_page(self, desk, appointment) -> None:
        data = admin_form_data(desk, appointment) | {"duration_in_minutes": "45"}
        assert desk.post(admin_change_url(appointment), data).status_code == 302
        assert types(appointment)[-2:] == ["appointment.updated", "appointment.rescheduled"]
        assert latest(appointment, "appointment.updated")["changed_fields"] == ["duration_in_minutes"]

    def test_a_back_office_action(self, desk, appointment) -> None:
        claimant_waits_while_scheduled(appointment)  # `waiting` needs the claimant in the waiting room (17.5)
        action = {"action": "mark_waiting", "_selected_action": [str(appointment.pk)]}
        assert desk.post("/admin/appointments/appointment/?show=all", action).status_code == 302
        assert latest(appointment, "appointment.status_changed") | {"appointment": None} == {
            "appointment": None,
            "from": "scheduled",
            "to": "waiting",
        }

    def test_the_no_show_command(self, department) -> None:
        past = make_appointment(department)
        start = timezone.now() - timedelta(hours=3)
        rewrite(Appointment.objects.filter(pk=past.pk), appointment_at=start)
        rewrite(Meeting.objects.filter(appointment=past), start_date=start, end_date=start + timedelta(hours=1))
        run_command("mark_no_shows")
        assert types(past)[-2:] == ["appointment.status_changed", "appointment.no_show"]

    def test_the_claimants_page(self, client, department) -> None:
        soon = timezone.now() + timedelta(minutes=10)
        appointment = make_appointment(
            department, appointment_at=soon, claimant={"name": "Ada", "data": {"Case number": "C-1"}}
        )
        page = f"/join/{appointment.public_token}"
        client.get(page)  # the page is opened first: its cookie keeps the link to this browser
        checks = {"camera": True, "microphone": True}
        assert client.post(f"{page}/device-check", checks, content_type="application/json").status_code < 400
        assert client.post(f"{page}/join", {}, content_type="application/json").status_code < 400
        assert types(appointment)[1:] == [
            "participant.device_checked",
            "appointment.updated",
            "appointment.status_changed",
            "participant.joined_waiting_room",
        ]
        joined = latest(appointment, "participant.joined_waiting_room")
        assert joined["participant"]["role"] == "claimant"
        assert joined["appointment"]["status"] == "waiting"
        assert client.post(f"{page}/leave", {}, content_type="application/json").status_code < 400
        assert types(appointment)[-1] == "participant.left"
        assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
