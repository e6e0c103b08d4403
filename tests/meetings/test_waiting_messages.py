"""The waiting room that reassures (issue 22.6): staff's message to someone waiting, by the API and from the back
office's waiting room, shown on their page at its next poll (escaped, a prepared one in the page's language); the
page says whom they wait for and, once the back office's waiting room has shown them, that staff know they are
there. Bad input is the contract's 422 and sends nothing; another department's appointment is the same 404."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from ledger.services import entries_of, verify
from meetings.models import Participant, Role, WaitingMessage
from tests.factories import make_appointment
from tests.helpers import logged_in, rewrite, staff

CLAIMANT = {"name": "Ada Lovelace", "date_of_birth": None, "data": {"Case number": "C-1"}}


@pytest.fixture
def soon(department) -> Appointment:
    department.contact_phone = "+442071234567"
    department.save(update_fields=["contact_phone"])
    dana = staff("dana", department)
    dana.first_name, dana.last_name = "Dana", "Reid"
    dana.save(update_fields=["first_name", "last_name"])
    return make_appointment(
        department,
        appointment_at=timezone.now() + timedelta(minutes=10),
        duration_in_minutes=30,
        claimant=CLAIMANT,
        agent_id=dana.pk,
    )


def claimant(appointment: Appointment) -> Participant:
    return Participant.objects.select_related("appointment").get(appointment=appointment, role=Role.CLAIMANT)


def step(client: Client, appointment: Appointment, name: str, body: dict) -> None:
    response = client.post(
        f"/join/{appointment.public_token}/{name}", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content


@pytest.fixture
def waiting_page(soon) -> Client:
    """The claimant's browser, in the waiting room the way the page gets there."""
    browser = Client()
    browser.get(f"/join/{soon.public_token}")
    step(browser, soon, "device-check", {"camera": True, "microphone": True})
    step(browser, soon, "join", {})
    return browser


def poll(browser: Client, appointment: Appointment) -> dict:
    response = browser.get(f"/join/{appointment.public_token}/status")
    assert response.status_code == 200
    return response.json()


def url(appointment: Appointment, participant: object) -> str:
    return f"/api/v1/appointments/{appointment.pk}/participants/{participant}/messages"


class TestApi:
    def test_a_prepared_message_reaches_the_waiting_claimants_next_poll(self, api, soon, waiting_page) -> None:
        before = poll(waiting_page, soon)
        assert before["state"] == "waiting"
        assert "message" not in before
        person = claimant(soon)
        response = api.post(url(soon, person.pk), {"prepared": "running_late_10"}, format="json")
        assert response.status_code == 201, response.content
        data = response.json()["data"]
        assert list(data) == ["id", "participant_id", "prepared", "text", "sent_by_id", "created_at"]
        assert (data["prepared"], data["text"]) == ("running_late_10", "I am running ten minutes late.")
        assert data["participant_id"] == str(person.pk)
        stored = WaitingMessage.objects.get(pk=data["id"])
        assert (stored.participant_id, stored.prepared, stored.text) == (person.pk, "running_late_10", "")
        assert stored.sent_by is not None
        entry = list(entries_of(soon.pk))[-1]
        assert (entry.type, entry.channel, entry.actor_type) == ("participant.messaged", "api", "api_user")
        assert entry.data["prepared"] == "running_late_10"
        assert verify(soon.pk) is None
        after = poll(waiting_page, soon)
        assert after["message"] == {"id": stored.pk, "text": "I am running ten minutes late."}
        page = waiting_page.get(f"/join/{soon.public_token}").content.decode()
        assert "I am running ten minutes late." in page

    def test_free_text_is_kept_as_written_and_shown_escaped(self, api, soon, waiting_page) -> None:
        text = "  Two <b>minutes</b> & I'm there  "
        response = api.post(url(soon, claimant(soon).pk), {"text": text}, format="json")
        assert response.status_code == 201
        assert response.json()["data"]["prepared"] is None
        assert WaitingMessage.objects.get().text == text.strip()
        entry = list(entries_of(soon.pk))[-1]
        assert (entry.type, entry.data["prepared"]) == ("participant.messaged", None)
        assert "minutes" not in json.dumps(entry.data)  # the text only in the entry's erasable personal part
        assert poll(waiting_page, soon)["message"]["text"] == text.strip()  # JSON; the page sets it as text
        page = waiting_page.get(f"/join/{soon.public_token}").content.decode()
        assert "Two &lt;b&gt;minutes&lt;/b&gt; &amp; I&#x27;m there" in page
        assert "<b>minutes</b>" not in page

    @pytest.mark.parametrize(
        ("body", "key"),
        [
            ({}, "text"),
            ({"text": ""}, "text"),
            ({"text": "   "}, "text"),
            ({"text": "x" * 301}, "text"),
            ({"text": 5}, "text"),
            ({"text": ["a"]}, "text"),
            ({"prepared": "sing_a_song"}, "prepared"),
            ({"prepared": 1}, "prepared"),
            ({"prepared": "running_late_5", "text": "and more"}, "text"),
        ],
    )
    def test_bad_bodies_are_422_and_send_nothing(self, api, soon, waiting_page, body, key) -> None:
        response = api.post(url(soon, claimant(soon).pk), body, format="json")
        assert response.status_code == 422, (body, response.content)
        assert list(response.json()["errors"]) == [key]
        assert response.json()["message"]
        assert not WaitingMessage.objects.exists()
        assert claimant(soon).message_sent_at is None

    def test_nobody_outside_the_waiting_room_is_sent_anything(self, api, soon) -> None:
        agent = Participant.objects.get(appointment=soon, role=Role.AGENT)
        for person in (claimant(soon), agent):  # the claimant has not joined yet
            response = api.post(url(soon, person.pk), {"prepared": "with_you_soon"}, format="json")
            assert response.status_code == 422
            assert list(response.json()["errors"]) == ["participant"]
        assert not WaitingMessage.objects.exists()

    def test_unknown_malformed_and_other_departments_participants_are_404(
        self, api, other_agent, soon, waiting_page, department
    ) -> None:
        person = claimant(soon)
        for target in (
            url(soon, uuid.uuid4()),
            url(soon, "not-an-id"),
            f"/api/v1/appointments/x/participants/{person.pk}/messages",
        ):
            assert api.post(target, {"prepared": "with_you_soon"}, format="json").status_code == 404
        elsewhere = make_appointment(department, claimant=CLAIMANT)
        assert api.post(url(elsewhere, person.pk), {"prepared": "with_you_soon"}, format="json").status_code == 404
        response = other_agent.client().post(url(soon, person.pk), {"prepared": "with_you_soon"}, format="json")
        assert response.status_code == 404
        assert response.json() == api.post(url(soon, uuid.uuid4()), {}, format="json").json()
        assert not WaitingMessage.objects.exists()

    def test_a_message_before_the_claimant_joined_again_is_not_shown(self, api, soon, waiting_page) -> None:
        assert api.post(url(soon, claimant(soon).pk), {"text": "Old news"}, format="json").status_code == 201
        rewrite(
            Participant.objects.filter(pk=claimant(soon).pk), joined_waiting_at=timezone.now() + timedelta(seconds=1)
        )
        assert "message" not in poll(waiting_page, soon)


class TestPage:
    def test_the_waiting_page_names_the_agent_the_wait_and_the_phone(self, soon, waiting_page) -> None:
        page = waiting_page.get(f"/join/{soon.public_token}").content.decode()
        assert "You are waiting for Dana Reid." in page
        assert 'id="staff-know" class="staff-know" hidden' in page
        assert 'href="tel:+442071234567"' in page
        assert "If nobody has let you in 15 minutes after your appointment time" in page

    def test_staff_know_once_the_back_office_waiting_room_showed_the_claimant(
        self, soon, waiting_page, department
    ) -> None:
        assert "staff_know" not in poll(waiting_page, soon)
        assert claimant(soon).shown_to_staff_at is None
        desk = logged_in(staff("desk", department))
        assert desk.get("/admin/appointments/appointment/waiting-room/?fragment=1").status_code == 200
        shown = claimant(soon).shown_to_staff_at
        assert shown is not None
        assert poll(waiting_page, soon)["staff_know"] is True
        page = waiting_page.get(f"/join/{soon.public_token}").content.decode()
        assert 'id="staff-know" class="staff-know">Dana Reid knows you are here.' in page
        desk.get("/admin/appointments/appointment/waiting-room/")
        assert claimant(soon).shown_to_staff_at == shown  # noted once per stay in the waiting room

    def test_a_poll_without_news_stays_one_read_and_a_heartbeat(self, soon, waiting_page, api) -> None:
        poll(waiting_page, soon)
        with CaptureQueriesContext(connection) as quiet:
            poll(waiting_page, soon)
        assert len(quiet) <= 2
        assert api.post(url(soon, claimant(soon).pk), {"text": "Hello"}, format="json").status_code == 201
        with CaptureQueriesContext(connection) as news:
            assert poll(waiting_page, soon)["message"]["text"] == "Hello"
        assert len(news) == len(quiet) + 1

    def test_outside_the_waiting_room_the_poll_keeps_its_shape(self, soon) -> None:
        body = poll(Client(), soon)
        assert list(body) == ["state", "status", "appointment_at", "duration_in_minutes"]


class TestBackOffice:
    def test_the_waiting_room_shows_language_verdict_wait_and_sends_a_message(
        self, soon, waiting_page, department
    ) -> None:
        desk_user = staff("desk", department)
        desk = logged_in(desk_user)
        html = desk.get("/admin/appointments/appointment/waiting-room/").content.decode()
        assert "Language: English" in html
        assert "Device check: Good for video" in html
        assert "Waiting for 0 min" in html
        assert 'data-waiting-count="1"' in html
        person = claimant(soon)
        response = desk.post(
            f"/admin/appointments/appointment/{soon.pk}/participants/{person.pk}/message/",
            {"prepared": "running_late_5"},
        )
        assert response.status_code == 302
        message = WaitingMessage.objects.get()
        assert (message.participant_id, message.prepared, message.sent_by) == (person.pk, "running_late_5", desk_user)
        assert poll(waiting_page, soon)["message"]["text"] == "I am running five minutes late."

    def test_a_bad_message_from_the_back_office_sends_nothing(
        self, soon, waiting_page, department, other_department
    ) -> None:
        desk = logged_in(staff("desk", department))
        person = claimant(soon)
        address = f"/admin/appointments/appointment/{soon.pk}/participants/{person.pk}/message/"
        response = desk.post(address, {"prepared": "", "text": ""}, follow=True)
        assert "Write a message or choose a prepared one." in response.content.decode()
        stranger = logged_in(staff("stranger", other_department))
        assert stranger.post(address, {"text": "hi"}).status_code == 404
        assert not WaitingMessage.objects.exists()


def test_a_prepared_message_is_shown_in_the_pages_language(api, soon, waiting_page) -> None:
    waiting_page.cookies["join_language"] = "cy"  # the switch's choice, as the page keeps it
    assert api.post(url(soon, claimant(soon).pk), {"prepared": "running_late_10"}, format="json").status_code == 201
    assert poll(waiting_page, soon)["message"]["text"] == "Rwy'n rhedeg deg munud yn hwyr."
    page = waiting_page.get(f"/join/{soon.public_token}").content.decode()
    assert '<html lang="cy"' in page
    assert "Rydych yn aros am Dana Reid." in page
    assert "Rwy&#x27;n rhedeg deg munud yn hwyr." in page
    # The API and the back office stay in English.
    assert api.get(f"/api/v1/appointments/{soon.pk}/participants").status_code == 200
    assert WaitingMessage.objects.get().prepared == "running_late_10"
