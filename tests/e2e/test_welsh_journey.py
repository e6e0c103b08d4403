"""The whole journey in Welsh (issue 22.1's done-when): a claimant whose preferred_language is `cy` goes from their
link to the end of the call in a real browser, and every page is Welsh with `lang="cy"` and none of the service's
English sentences; the booking email with its .ics, the reminder and both text messages are sent by the real task
worker (`manage.py db_worker`, a process of its own) to a local SMTP server and a local text message provider (an
HTTP server, through tests/sms_over_http.py), and each is Welsh.

The reminder is the department's "1 hour before" of an appointment booked an hour and half a minute ahead, so the
worker sends it by itself during the walk (the join window opens 90 minutes ahead here)."""

import email
import email.policy
import json
import re
from datetime import date, timedelta
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from django.contrib.auth.models import Group
from django.utils import timezone
from icalendar import Calendar

from appointments.models import Appointment, Status
from tests.e2e import test_claimant_journey as journeys
from tests.factories import UserFactory, make_appointment
from tests.helpers import Receiver, SmtpServer, browser_sign_in, shared_database_only, wait_for
from tests.support import database_env, persona, start_db_worker
from worker.models import WorkerBeat

pytestmark = [shared_database_only, pytest.mark.django_db(transaction=True)]
video_stub = journeys.video_stub
LOCALE = Path(__file__).resolve().parents[2] / "locale" / "cy" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}")

# The appointment's time from now: inside the hour before it, when the reminder goes out.
APPOINTMENT_IN = timedelta(hours=1, seconds=40)


def listed(value: object) -> list[str]:
    """A message's id or string as a list: a plural message has one per form."""
    return [str(each) for each in value] if isinstance(value, (tuple, list)) else [str(value or "")]


@cache
def english_sentences() -> frozenset[str]:
    """Every English text of the Welsh catalogue that the Welsh does not repeat, cut at its placeholders: the pieces
    of three words or more, which no Welsh page or message may hold."""
    found = set()
    for name in ("django.po", "djangojs.po"):
        with (LOCALE / name).open("rb") as source:
            catalogue = read_po(source, locale="cy")
        for message in catalogue:
            if not message.id:
                continue
            ids, strings = listed(message.id), listed(message.string)
            for english in ids:
                for piece in PLACEHOLDER.split(english):
                    piece = piece.strip(" .,:;!?()\n")
                    if len(piece.split()) >= 3 and not any(piece in welsh for welsh in strings):
                        found.add(piece)
    assert len(found) > 100, "the catalogue's English texts were not read"
    return frozenset(found)


def english_in(text: str) -> list[str]:
    flat = " ".join(text.split())
    return sorted(piece for piece in english_sentences() if " ".join(piece.split()) in flat)


def assert_welsh_page(page: Any, where: str) -> None:
    assert page.evaluate("document.documentElement.lang") == "cy", where
    assert english_in(page.inner_text("body") + "\n" + page.title()) == [], where


def mails(smtp: SmtpServer) -> list[EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in smtp.messages]


def texts(provider: Receiver) -> list[str]:
    return [json.loads(item.body)["text"] for item in provider.received]


@pytest.fixture
def welsh_claimant(settings, live_server, video_stub, department):
    settings.VIDEO_BASE_URL = video_stub
    settings.PUBLIC_BASE_URL = live_server.url
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = journeys.SECRET
    settings.STATUS_POLL_SECONDS = 1
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    settings.JOIN_OPENS_MINUTES_BEFORE = 90
    department.reminder_hours = "1"
    department.save(update_fields=["reminder_hours"])
    agent = UserFactory.create(username="desk", first_name="Dana", last_name="Desk", is_staff=True)
    agent.set_password(journeys.PASSWORD)
    agent.save()
    agent.groups.add(Group.objects.get(name="Agents"))
    department.members.add(agent)
    return department


def test_a_welsh_claimant_reads_welsh_on_every_page_and_in_every_message(
    live_server, browser, page, welsh_claimant, tmp_path
) -> None:
    department = welsh_claimant
    base = live_server.url
    log = (tmp_path / "worker.log").open("wb")
    with SmtpServer() as smtp, Receiver() as provider:
        env = database_env() | {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "SMS_BACKEND": "tests.sms_over_http.HttpBackend",
            "SMS_STAND_IN_URL": provider.url,
            "PUBLIC_BASE_URL": base,
        }
        worker = start_db_worker(env, log)
        try:
            wait_for(lambda: WorkerBeat.objects.filter(process__endswith=f":{worker.pid}").exists(), 60, "the worker")
            walk(page, browser, base, department, smtp, provider)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()


def walk(page: Any, browser: Any, base: str, department: Any, smtp: SmtpServer, provider: Receiver) -> None:
    claimant = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone_number": "+447911123456",
        "date_of_birth": date(1990, 5, 17),
        "preferred_language": "cy",
        "data": {"Case number": "C-1"},
    }
    appointment = make_appointment(
        department,
        appointment_at=timezone.now() + APPOINTMENT_IN,
        duration_in_minutes=30,
        claimant=claimant,
        features_call_recording_enable=True,
    )
    api = persona("integration", department).client()

    # The booking: an email with its invitation and a text message, both Welsh.
    wait_for(lambda: len(smtp.messages) >= 1 and len(provider.received) >= 1, 90, "the booking's messages")
    [booking] = mails(smtp)
    assert str(booking["Subject"]).startswith("Eich apwyntiad fideo gyda Claims: Dydd ")
    plain = booking.get_body(("plain",))
    html = booking.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().startswith("Annwyl Ada Lovelace,")
    assert english_in(plain.get_content()) == []
    assert '<html lang="cy">' in html.get_content()
    assert english_in(re.sub(r"<[^>]+>", " ", html.get_content())) == []
    [ics] = [part for part in booking.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert str(event["summary"]) == "Apwyntiad fideo gyda Claims"
    assert str(event["description"]).startswith(f"Ymunwch drwy eich dolen: {base}/join/")
    [booked_text] = texts(provider)
    assert booked_text.startswith("Claims: eich apwyntiad fideo, Dydd ")
    assert english_in(booked_text) == []

    # The claimant's page, step by step: each state Welsh.
    page.goto(appointment.url)
    assert page.inner_text("h1") == "Eich apwyntiad fideo"
    assert_welsh_page(page, "before the checks")
    page.click("#device-check")
    page.wait_for_selector("#step-device.done")
    assert_welsh_page(page, "after the device check")
    page.fill("#dob-day", "1")
    page.fill("#dob-month", "1")
    page.fill("#dob-year", "1991")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector("#identity-error:not(:empty)")
    assert_welsh_page(page, "a wrong date of birth")
    page.fill("#dob-day", "17")
    page.fill("#dob-month", "5")
    page.fill("#dob-year", "1990")
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector(".greeting:has-text('Ada Lovelace')")
    assert_welsh_page(page, "the consent step")
    page.check("#consent-yes")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#step-consent.done")
    assert_welsh_page(page, "ready to join")
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#waiting-details")
    assert_welsh_page(page, "the waiting room")

    # The reminder, an hour before, sent by the worker on its own while the claimant waits.
    wait_for(lambda: len(smtp.messages) >= 2 and len(provider.received) >= 2, 120, "the reminder's messages")
    reminder = mails(smtp)[1]
    assert str(reminder["Subject"]).startswith("Nodyn atgoffa: ")
    reminder_plain = reminder.get_body(("plain",))
    assert reminder_plain is not None
    assert reminder_plain.get_content().startswith("Annwyl Ada Lovelace,")
    assert english_in(reminder_plain.get_content()) == []
    reminder_text = texts(provider)[1]
    assert reminder_text.startswith("Nodyn atgoffa gan Claims: ")
    assert english_in(reminder_text) == []

    # The agent starts the session from the back office (which stays English); the claimant's meeting is Welsh.
    desk = browser.new_context().new_page()
    browser_sign_in(desk, base, "desk", journeys.PASSWORD)
    desk.goto(f"{base}/admin/appointments/appointment/waiting-room/")
    desk.locator(f"tr[data-appointment='{appointment.pk}'] button.start-session").click()
    desk.wait_for_selector("#stub-meeting")
    page.wait_for_selector("#stub-meeting", timeout=15_000)
    assert_welsh_page(page, "the meeting")
    assert page.evaluate("() => window.__jitsi.options.lang") == "cy"

    # The session ends: the page thanks the claimant in Welsh.
    response = api.patch(f"/api/v1/appointments/{appointment.pk}", {"status": "completed"}, format="json")
    assert response.status_code == 200
    page.wait_for_selector("h1:has-text('Diolch')", timeout=15_000)
    assert_welsh_page(page, "completed")
    assert Appointment.objects.get(pk=appointment.pk).status == Status.COMPLETED
    assert page.console_errors == []
    desk.context.close()

    # Nothing else was sent, and nothing in English.
    assert len(smtp.messages) == 2
    assert len(provider.received) == 2
