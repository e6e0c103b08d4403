"""The claimant's messages in their language (issue 22.1): a claimant who chose Welsh gets every message, text
message and calendar invitation in Welsh; without a choice, the department's default, or both languages, Welsh
first, for a bilingual department; a choice made later is used for every later message."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from appointments.models import Appointment
from appointments.services import appointment_update
from notifications.sms import MemoryBackend
from tests.factories import make_appointment
from tests.helpers import run_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_outbox")]
CLAIMANT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone_number": "+447911123456",
    "data": {"Case number": "C-1"},
}


def booked(department, **claimant: Any) -> Appointment:
    at = (timezone.now() + timedelta(days=3)).replace(hour=10, minute=30, second=0, microsecond=0)
    return make_appointment(department, appointment_at=at, claimant=CLAIMANT | claimant)


def html_of(message: Any) -> str:
    return str(message.alternatives[0][0])


def event_of(message: Any) -> Any:
    return Calendar.from_ical(message.attachments[0][1]).walk("VEVENT")[0]


def test_a_claimant_who_chose_welsh_gets_welsh_everywhere(department) -> None:
    booked(department, preferred_language="cy")
    run_tasks()
    [email] = mail.outbox
    assert email.subject.startswith("Eich apwyntiad fideo gyda Claims: Dydd ")
    assert email.body.startswith("Annwyl Ada Lovelace,")
    assert "Mae eich apwyntiad fideo gyda Claims wedi'i drefnu." in email.body
    assert "Your video appointment" not in email.body
    html = html_of(email)
    assert '<html lang="cy">' in html
    assert "Agor eich apwyntiad" in html
    event = event_of(email)
    assert str(event["summary"]) == "Apwyntiad fideo gyda Claims"
    assert str(event["description"]).startswith("Ymunwch drwy eich dolen: http")
    [(_to, text)] = MemoryBackend.outbox
    assert text.startswith("Claims: eich apwyntiad fideo, Dydd ")
    assert " am 10:30 " in text


def test_a_bilingual_department_writes_welsh_first_until_the_claimant_chooses(department) -> None:
    department.bilingual = True
    department.save(update_fields=["bilingual"])
    appointment = booked(department)
    run_tasks()
    [email] = mail.outbox
    welsh, english = email.subject.split(" / ")
    assert welsh.startswith("Eich apwyntiad fideo gyda Claims")
    assert english.startswith("Your video appointment with Claims")
    assert email.body.index("Annwyl Ada Lovelace") < email.body.index("Dear Ada Lovelace")
    html = html_of(email)
    assert html.count("<html") == 1
    assert html.index("Annwyl") < html.index('<div lang="en">') < html.index("Dear Ada")
    event = event_of(email)
    assert str(event["summary"]) == "Apwyntiad fideo gyda Claims / Video appointment with Claims"
    welsh_link, english_link = str(event["description"]).split("\n\n")
    assert welsh_link.startswith("Ymunwch drwy eich dolen: http")
    assert english_link.startswith("Join from your link: http")
    [(_to, text)] = MemoryBackend.outbox
    assert text.index("Claims: eich apwyntiad fideo") < text.index("Claims: your video appointment")
    # Once the claimant chose English, the next message is English alone.
    mail.outbox.clear()
    appointment_update(
        appointment=appointment,
        data={
            "claimant": {"preferred_language": "en"},
            "appointment_at": appointment.appointment_at + timedelta(hours=1),
        },
        actor=None,
    )
    run_tasks()
    [moved] = [m for m in mail.outbox if "moved" in m.subject]
    assert moved.subject.startswith("Your video appointment has moved: ")
    assert "Annwyl" not in moved.body


def test_a_welsh_department_writes_welsh_to_a_claimant_who_has_not_chosen(department) -> None:
    department.default_language = "cy"
    department.save(update_fields=["default_language"])
    booked(department)
    run_tasks()
    [email] = mail.outbox
    assert email.subject.startswith("Eich apwyntiad fideo gyda Claims")
    assert " / " not in email.subject
