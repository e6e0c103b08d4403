"""Internal notes on an appointment (issue 24.3): staff add them on the appointment's page, with who and when; they
stay out of everything the API, the events and the claimant's messages carry; they are kept in history; privacy's
erasure empties their text, live and in every version."""

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from appointments.models import Appointment
from appointments.services import appointment_update
from claimants.models import Claimant
from desk.models import Note
from events.models import Event
from meetings.models import Participant, Role
from privacy.erasure import appointment_erase
from tests.factories import in_days
from tests.helpers import admin_change_url, logged_in, run_tasks, staff
from tests.support import persona

pytestmark = pytest.mark.django_db

SECRET_NOTE = "Claimant sounded anxious about the knee surgery; offer an interpreter next time."


def add(client: Client, appointment: Appointment, text: str = SECRET_NOTE, *, follow: bool = False) -> Any:
    return client.post(f"/admin/appointments/appointment/{appointment.pk}/notes/", {"note_text": text}, follow=follow)


def test_an_agent_adds_a_note_shown_with_who_and_when(appointment: Appointment) -> None:
    agent = staff("dana", appointment.department)
    agent.first_name, agent.last_name = "Dana", "Reid"
    agent.save()
    client = logged_in(agent)
    response = add(client, appointment, f"  {SECRET_NOTE}\n")
    assert response.status_code == 302
    assert response["Location"].endswith(f"{appointment.pk}/change/#notes")
    note = Note.objects.get()
    assert (note.appointment_id, note.author_id, note.text) == (appointment.pk, agent.pk, SECRET_NOTE)
    page = client.get(admin_change_url(appointment)).content.decode()
    assert 'id="notes"' in page
    assert SECRET_NOTE.replace("'", "&#x27;") in page
    assert "Dana Reid · " in page
    # A second note is another row, after the first.
    add(client, appointment, "Called back, all fine.")
    assert list(Note.objects.order_by("created_at", "id").values_list("text", flat=True)) == [
        SECRET_NOTE,
        "Called back, all fine.",
    ]


def test_a_note_is_kept_in_history_with_its_author(appointment: Appointment) -> None:
    agent = staff("dana", appointment.department)
    client = logged_in(agent)
    add(client, appointment)
    version = Note.history.get()
    assert (version.history_type, version.history_user_id, version.text) == ("+", agent.pk, SECRET_NOTE)
    history = client.get(f"/admin/appointments/appointment/{appointment.pk}/history/").content.decode()
    assert "Note" in history
    assert "knee surgery" in history


def test_an_empty_note_or_one_of_another_department_is_refused(appointment: Appointment, other_department) -> None:
    client = logged_in(staff("dana", appointment.department))
    followed = add(client, appointment, "   ", follow=True)
    assert "The note was not added: Write the note first." in followed.content.decode()
    outsider = logged_in(staff("elsewhere", other_department))
    assert add(outsider, appointment).status_code == 404
    assert client.get(f"/admin/appointments/appointment/{appointment.pk}/notes/").status_code == 405
    assert not Note.objects.exists()


def test_notes_stay_out_of_the_api_events_and_the_claimants_messages(appointment: Appointment, department) -> None:
    client = logged_in(staff("dana", department))
    add(client, appointment)
    # A change after the note: events, webhooks' payloads and the claimant's messages are built and sent.
    appointment_update(appointment=appointment, data={"appointment_at": in_days(3)}, actor=None)
    run_tasks()
    api = persona("crm", department).client()
    answers = [
        api.get(f"/api/v1/appointments/{appointment.pk}"),
        api.get("/api/v1/appointments"),
        api.get(f"/api/v1/appointments/{appointment.pk}/events"),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    claimant_page = Client().get(f"/join/{claimant.token}")
    assert claimant_page.status_code == 200
    assert mail.outbox  # the claimant was written to about the change
    carried = [
        *(answer.content.decode() for answer in answers),
        claimant_page.content.decode(),
        *(str(event.data) for event in Event.objects.filter(appointment_id=appointment.pk)),
        *(f"{message.subject} {message.body} {getattr(message, 'alternatives', '')}" for message in mail.outbox),
    ]
    assert [text for text in carried if "knee surgery" in text] == []


def test_erasure_empties_the_notes_and_their_history(appointment: Appointment, department) -> None:
    client = logged_in(staff("dana", department))
    add(client, appointment)
    add(client, appointment, "Second thoughts about Ada Lovelace.")
    manager = staff("boss", department, group="Department managers")
    erasure = appointment_erase(appointment_id=appointment.pk, actor=manager)
    assert list(Note.objects.values_list("text", flat=True)) == [None, None]
    assert list(Note.history.values_list("text", flat=True)) == [None, None]
    assert erasure.counts["desk_note"] == 2
    assert erasure.counts["desk_historicalnote"] == 2
    # Who wrote them and when stay; the page says the text was erased, and takes no new note.
    assert set(Note.objects.values_list("author__username", flat=True)) == {"dana"}
    assert Claimant.objects.get(appointment=appointment).erased_at is not None
    page = client.get(admin_change_url(appointment)).content.decode()
    assert "(erased with the claimant's personal data)" in page
    assert 'name="note_text"' not in page
    followed = add(client, appointment, "after", follow=True).content.decode()
    assert "no note can be added" in followed
    assert Note.objects.count() == 2
