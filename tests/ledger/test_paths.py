"""Every door writes the ledger (issue 20.1): each path that changes an appointment or its participants, walked as
a client, a member of staff, a claimant, a guest, an operator or the worker would, writes exactly the entries of
what happened (type, who, through which door), in order, and every chain still verifies."""

import json
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from appointments.models import Appointment
from appointments.tasks import appointment_check_no_show
from ledger.models import Entry
from ledger.services import entries_of, verify
from meetings.models import Meeting, Participant, Role
from tests.factories import in_days, make_appointment
from tests.helpers import (
    Receiver,
    admin_change_url,
    admin_form_data,
    data_item,
    logged_in,
    rewrite,
    run_tasks,
    staff,
)
from tests.helpers import patch_url as url

API = ("api_user", "api")
DESK = ("staff", "back_office")
CLAIMANT = ("claimant", "claimant_page")
SYSTEM_WORKER = ("system", "worker")


def happened(appointment, after: int = 0) -> list[tuple[str, str, str]]:
    """The appointment's entries after the first `after`: (type, actor type, channel), oldest first."""
    return [(e.type, e.actor_type, e.channel) for e in entries_of(appointment.pk)][after:]


def count(appointment) -> int:
    return Entry.objects.filter(appointment_id=appointment.pk).count()


@pytest.fixture(autouse=True)
def _every_chain_verifies_after():
    yield
    assert verify() is None


@pytest.fixture
def desk(department) -> Client:
    return logged_in(staff("desk", department))


def soon(department, **options) -> Appointment:
    """An appointment whose join window is open, with a date of birth to check."""
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    when = timezone.now() + timedelta(minutes=10)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant, **options)


def page_post(client: Client, token: str, step: str, body: dict[str, object]) -> int:
    if "join_browser" not in client.cookies:
        client.get(f"/join/{token}")
    return client.post(f"/join/{token}{step}", json.dumps(body), content_type="application/json").status_code


class TestApi:
    def test_create_patch_method_override_and_cancel(self, api, agent, department) -> None:
        claimant = {"name": "Ann", "data": {"Case number": "A-1"}}
        body = {"appointment_at": in_days(3).isoformat(), "duration_in_minutes": 30, "claimant": claimant}
        response = api.post("/api/v1/appointments", body, format="json")
        assert response.status_code == 201, response.json()
        appointment = Appointment.objects.get(pk=response.json()["data"]["id"])
        assert api.patch(url(appointment), {"duration_in_minutes": 45}, format="json").status_code == 200
        form = {"claimant[phone_number]": "+447911123457"}
        assert api.post(url(appointment, "?_method=PATCH"), form, format="multipart").status_code == 200
        assert api.patch(url(appointment), {"duration_in_minutes": 45}, format="json").status_code == 200  # unchanged
        cancelled = api.post(url(appointment, "/cancel"), {"cancellation_reason": "Moved away"}, format="json")
        assert cancelled.status_code == 200
        assert happened(appointment) == [
            ("appointment.created", *API),
            ("appointment.updated", *API),
            ("appointment.rescheduled", *API),
            ("appointment.updated", *API),
            ("appointment.updated", *API),
            ("appointment.status_changed", *API),
            ("appointment.cancelled", *API),
        ]
        entries = list(entries_of(appointment.pk))
        assert {e.actor_id for e in entries} == {str(agent.user.pk)}
        assert entries[3].personal_values["changes"] == {"claimant.phone_number": {"old": None, "new": "+447911123457"}}
        assert entries[5].data == {"from": "scheduled", "to": "cancelled"}
        assert entries[6].personal_values["reason"] == "Moved away"
        assert "Moved away" not in json.dumps(entries[6].data)

    def test_a_refused_change_writes_nothing(self, api, appointment) -> None:
        before = count(appointment)
        response = api.patch(url(appointment), {"duration_in_minutes": 1}, format="json")
        assert response.status_code == 422
        assert count(appointment) == before

    def test_guests_invited_revoked_and_admitted(self, api, agent, department) -> None:
        appointment = soon(department)
        made = api.post(url(appointment, "/guests"), {"display_name": "Sam Solicitor"}, format="json")
        assert made.status_code == 201, made.json()
        guest = Participant.objects.get(pk=made.json()["data"]["id"])
        browser = Client()
        assert page_post(browser, guest.token, "/device-check", {"camera": True, "microphone": True}) == 200
        assert page_post(browser, guest.token, "/join", {}) == 200
        admitted = api.post(url(appointment, f"/participants/{guest.pk}/admit"))
        assert admitted.status_code == 200, admitted.json()
        assert api.delete(url(appointment, f"/guests/{guest.pk}")).status_code == 204
        assert happened(appointment, after=1) == [
            ("participant.invited", *API),
            ("participant.device_checked", "guest", "claimant_page"),
            ("participant.joined_waiting_room", "guest", "claimant_page"),
            ("participant.admitted", *API),
            ("participant.revoked", *API),
            ("participant.left", *API),
        ]
        invited = entries_of(appointment.pk)[1]
        assert invited.data == {"participant": {"id": str(guest.pk), "role": "guest"}}
        assert invited.personal_values["display_name"] == "Sam Solicitor"


class TestBackOffice:
    def test_the_change_form_and_saving_it_unchanged(self, desk, appointment) -> None:
        data = admin_form_data(desk, appointment)
        assert desk.post(admin_change_url(appointment), data).status_code == 302
        assert count(appointment) == 1  # saved unchanged: nothing happened
        data["duration_in_minutes"] = 45
        assert desk.post(admin_change_url(appointment), data).status_code == 302
        assert happened(appointment, after=1) == [("appointment.updated", *DESK), ("appointment.rescheduled", *DESK)]

    def test_the_cancel_action(self, desk, appointment) -> None:
        changelist = "/admin/appointments/appointment/?show=all"
        body = {"action": "cancel_appointments", "_selected_action": [str(appointment.pk)], "apply": "1"}
        assert desk.post(changelist, {**body, "cancellation_reason": "Storm"}).status_code == 302
        assert happened(appointment, after=1) == [
            ("appointment.updated", *DESK),
            ("appointment.status_changed", *DESK),
            ("appointment.cancelled", *DESK),
        ]

    def test_booking(self, desk, department) -> None:
        case = department.data_fields.get(name="Case number")
        form = {"date": f"{in_days(5):%Y-%m-%d}", "time": "10:30", "duration_in_minutes": "45",
                "claimant_name": "Phoned In", f"data_{case.pk}": "PH-1"}  # fmt: skip
        assert desk.post("/admin/appointments/appointment/add/", form).status_code == 302
        booked = Appointment.objects.get(claimant__name="Phoned In")
        assert happened(booked) == [("appointment.created", *DESK)]
        assert entries_of(booked.pk).get().personal_values["claimant.name"] == "Phoned In"

    def test_unlocking_a_claimants_identity_check(self, desk, department, settings) -> None:
        settings.IDENTITY_MAX_FAILURES = settings.IDENTITY_LINK_MAX_FAILURES = 2
        appointment = soon(department)
        browser = Client()
        for _ in range(2):
            page_post(browser, appointment.public_token, "/identity", {"date_of_birth": "2001-01-01"})
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        unlock = f"/admin/appointments/appointment/{appointment.pk}/participants/{claimant.pk}/unlock/"
        assert desk.post(unlock).status_code == 302
        assert happened(appointment, after=1) == [
            ("identity.checked", *CLAIMANT),
            ("identity.checked", *CLAIMANT),
            ("identity.locked", *CLAIMANT),  # the browser's tries
            ("identity.locked", *CLAIMANT),  # the link's
            ("identity.unlocked", *DESK),
        ]
        scopes = [e.data.get("scope") for e in entries_of(appointment.pk) if e.type == "identity.locked"]
        assert scopes == ["browser", "link"]


class TestClaimantPage:
    def test_every_step_of_the_claimants_page(self, department) -> None:
        appointment = soon(department, features_call_recording_enable=True)
        browser, token = Client(), appointment.public_token
        steps: list[tuple[str, dict[str, object]]] = [
            ("/device-check", {"camera": True, "microphone": False}),
            ("/identity", {"date_of_birth": "2001-01-01"}),
            ("/identity", {"date_of_birth": "1990-05-17"}),
            ("/consent", {"consent": False}),
            ("/consent", {"consent": True}),  # the first answer stands: nothing happens
            ("/join", {}),
            ("/leave", {}),
        ]
        for step, body in steps:
            assert page_post(browser, token, step, body) in (200, 422), step
        assert happened(appointment, after=1) == [
            ("participant.device_checked", *CLAIMANT),
            ("identity.checked", *CLAIMANT),
            ("identity.checked", *CLAIMANT),
            ("consent.refused", *CLAIMANT),
            ("appointment.updated", *CLAIMANT),  # scheduled -> waiting
            ("appointment.status_changed", *CLAIMANT),
            ("participant.joined_waiting_room", *CLAIMANT),
            ("appointment.updated", *CLAIMANT),  # waiting -> scheduled
            ("appointment.status_changed", *CLAIMANT),
            ("participant.left", *CLAIMANT),
        ]
        results = [e.data.get("result") for e in entries_of(appointment.pk) if e.type == "identity.checked"]
        assert results == ["failed", "passed"]
        checked = entries_of(appointment.pk).get(type="participant.device_checked")
        assert checked.data["result"] == {"camera": True, "microphone": False, "downlink_kbps": None}


class TestCommandsAndWorker:
    def in_the_past(self, appointment: Appointment, hours: float) -> None:
        start = timezone.now() - timedelta(hours=hours)
        rewrite(Appointment.objects.filter(pk=appointment.pk), appointment_at=start)
        rewrite(Meeting.objects.filter(appointment=appointment), start_date=start, end_date=start + timedelta(hours=1))

    def test_mark_no_shows_as_a_command(self, department) -> None:
        appointment = make_appointment(department)
        self.in_the_past(appointment, hours=3)
        call_command("mark_no_shows", stdout=StringIO())
        assert happened(appointment, after=1) == [
            ("appointment.updated", "command", "command"),
            ("appointment.status_changed", "command", "command"),
            ("appointment.no_show", "command", "command"),
        ]

    def test_the_workers_no_show_check_messages_and_webhooks(self, department, settings) -> None:
        settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
        with Receiver() as receiver:
            from webhooks.models import Endpoint

            Endpoint.objects.create(department=department, url=receiver.url, event_types=["appointment.created"])
            appointment = make_appointment(
                department, claimant={"name": "Ada", "email": "ada@example.com", "data": {"Case number": "W-1"}}
            )
            run_tasks()
            assert sorted(happened(appointment, after=1)) == [
                ("message.sent", *SYSTEM_WORKER),
                ("webhook.delivered", *SYSTEM_WORKER),
            ]
            sent = entries_of(appointment.pk).get(type="message.sent")
            assert (sent.data["kind"], sent.data["channel"]) == ("booked", "email")
            assert "ada@example.com" not in json.dumps(sent.data)
            before = count(appointment)
            self.in_the_past(appointment, hours=3)
            appointment_check_no_show.enqueue(str(appointment.pk))
            with time_machine.travel(timezone.now(), tick=False):
                run_tasks()
        assert happened(appointment, after=before)[:3] == [
            ("appointment.updated", *SYSTEM_WORKER),
            ("appointment.status_changed", *SYSTEM_WORKER),
            ("appointment.no_show", *SYSTEM_WORKER),
        ]


def test_the_data_item_changed_is_named_by_its_id(api, appointment) -> None:
    item = data_item(appointment, "Case number")
    body = {"claimant": {"data": [{"id": str(item.pk), "value": "CASE-9"}]}}
    assert api.patch(url(appointment), body, format="json").status_code == 200
    updated = entries_of(appointment.pk).get(type="appointment.updated")
    assert updated.personal_values["changes"] == {f"claimant.data.{item.pk}": {"old": "CASE-1", "new": "CASE-9"}}
    assert updated.data == {"changed_fields": ["claimant.data"], "changes": {}}


class TestTheSession:
    def join(self, appointment: Appointment) -> None:
        browser, token = Client(), appointment.public_token
        steps: list[tuple[str, dict[str, object]]] = [
            ("/device-check", {"camera": True, "microphone": True}),
            ("/identity", {"date_of_birth": "1990-05-17"}),
            ("/join", {}),
        ]
        for step, body in steps:
            assert page_post(browser, token, step, body) == 200, step

    def test_started_and_ended_in_the_back_office(self, desk, department) -> None:
        appointment = soon(department)
        self.join(appointment)
        before = count(appointment)
        assert desk.post(f"/admin/appointments/appointment/{appointment.pk}/start/").status_code == 302
        assert desk.post(f"/admin/appointments/appointment/{appointment.pk}/meeting/end/").status_code == 302
        assert happened(appointment, after=before) == [
            ("appointment.updated", *DESK),
            ("appointment.status_changed", *DESK),
            ("meeting.started", *DESK),
            ("participant.admitted", *DESK),
            ("appointment.updated", *DESK),
            ("appointment.status_changed", *DESK),
            ("meeting.ended", *DESK),
        ]

    def test_a_claimant_gone_silent_let_go_by_the_operators_command(self, department, settings) -> None:
        settings.WAITING_ABSENCE_SECONDS = 60
        appointment = soon(department)
        self.join(appointment)
        before = count(appointment)
        silent = timezone.now() - timedelta(seconds=61)
        Participant.objects.filter(appointment=appointment, role=Role.CLAIMANT).update(last_seen_at=silent)
        call_command("release_absent_claimants", stdout=StringIO())
        assert happened(appointment, after=before) == [
            ("appointment.updated", "command", "command"),  # waiting -> scheduled
            ("appointment.status_changed", "command", "command"),
            ("participant.left", "command", "command"),
        ]
