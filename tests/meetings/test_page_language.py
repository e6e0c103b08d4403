"""The language of the participants' pages (issue 22.1): chosen by the switch (and kept in the browser), Welsh when
the browser asks for it, English otherwise; `lang`, the texts, the page script's texts, the errors of the steps and
the calendar file follow it. The API and the back office never change language."""

import json

import pytest
from django.test import Client
from icalendar import Calendar

from appointments.models import Appointment
from claimants.models import Claimant
from events.models import Event, EventType
from tests.meetings.test_public_pages import page_url, post, soon

pytestmark = pytest.mark.django_db


def test_a_page_is_english_by_default_and_welsh_when_the_browser_asks(client: Client, appointment) -> None:
    english = client.get(page_url(appointment))
    assert english["Content-Language"] == "en"
    assert '<html lang="en">' in english.content.decode()
    assert "Your video appointment" in english.content.decode()
    welsh = Client(headers={"Accept-Language": "cy-GB, en;q=0.8"}).get(page_url(appointment))
    html = welsh.content.decode()
    assert welsh["Content-Language"] == "cy"
    assert '<html lang="cy">' in html
    assert "Eich apwyntiad fideo" in html
    assert "Your video appointment" not in html
    assert "Accept-Language" in welsh["Vary"]
    # The switch names each language in itself, the current one marked.
    assert '<span lang="cy" aria-current="true">Cymraeg</span>' in html
    assert '<a href="?lang=en" lang="en" hreflang="en">English</a>' in html


def test_the_switch_is_remembered_by_the_browser(client: Client, appointment) -> None:
    chosen = client.get(page_url(appointment) + "?lang=cy")
    assert chosen["Content-Language"] == "cy"
    assert client.cookies["join_language"].value == "cy"
    assert client.cookies["join_language"]["httponly"]
    again = client.get(page_url(appointment))
    assert '<html lang="cy">' in again.content.decode()
    back = client.get(page_url(appointment) + "?lang=en")
    assert '<html lang="en">' in back.content.decode()
    assert client.cookies["join_language"].value == "en"


def test_an_unknown_language_is_ignored(client: Client, appointment) -> None:
    response = client.get(page_url(appointment) + "?lang=fr", headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "join_language" not in response.cookies


def test_the_pages_without_a_link_follow_the_browser() -> None:
    welsh = Client(headers={"Accept-Language": "cy"}).get("/join/" + "z" * 32)
    assert welsh.status_code == 404
    assert '<html lang="cy">' in welsh.content.decode()
    assert "Nid yw'r ddolen hon yn ddilys" in welsh.content.decode()
    chosen = Client().get("/join/" + "z" * 32 + "?lang=cy")
    assert "Nid yw'r ddolen hon yn ddilys" in chosen.content.decode()


def test_the_steps_answer_in_the_pages_language(client: Client, department) -> None:
    appointment: Appointment = soon(department, features_call_recording_enable=True)
    client.get(page_url(appointment) + "?lang=cy")
    wrong = post(client, page_url(appointment, "/identity"), {"date_of_birth": "1990-05-18"})
    assert wrong.status_code == 422
    assert wrong.json()["message"] == "Nid yw'r dyddiad geni hwnnw'n cyfateb i'n cofnodion. 4 ymgais ar ôl."
    refused = post(client, page_url(appointment, "/consent"), {"consent": True})
    assert refused.status_code == 409
    assert refused.json()["message"] == "Cadarnhewch pwy ydych chi yn gyntaf."


def test_the_calendar_file_is_in_the_pages_language(client: Client, appointment) -> None:
    client.get(page_url(appointment) + "?lang=cy")
    event = Calendar.from_ical(client.get(page_url(appointment, "/calendar.ics")).content).walk("VEVENT")[0]
    assert str(event["summary"]) == f"Apwyntiad fideo gyda {appointment.department.name}"
    assert str(event["description"]).startswith("Ymunwch drwy eich dolen: ")


def test_the_page_scripts_texts_are_a_static_script_per_language(client: Client) -> None:
    welsh = client.get("/join/i18n/cy.js")
    assert welsh.status_code == 200
    assert welsh["Content-Type"].startswith("text/javascript")
    assert json.dumps("Yn gwirio…")[1:-1] in welsh.content.decode() or "Yn gwirio…" in welsh.content.decode()
    assert client.get("/join/i18n/fr.js").status_code == 404


def test_the_api_never_changes_language(appointment, agent) -> None:
    api = agent.client()
    url = f"/api/v1/appointments/{appointment.pk}"
    plain = api.get(url)
    welsh = api.get(url, headers={"Accept-Language": "cy"})
    assert plain.content == welsh.content
    missing = api.get("/api/v1/appointments/00000000-0000-0000-0000-000000000000", headers={"Accept-Language": "cy"})
    assert missing.status_code == 404
    assert "Content-Language" not in missing


def _traces(appointment: Appointment) -> tuple[int, int, int]:
    """What a kept choice writes: the claimant's and the appointment's history rows, and the appointment's events."""
    return (
        Claimant.history.filter(id=appointment.claimant.pk).count(),
        Appointment.history.filter(id=appointment.pk).count(),
        Event.objects.filter(appointment=appointment).count(),
    )


def _known(client: Client, appointment: Appointment) -> None:
    """This browser passes the identity check, so it holds the link."""
    assert post(client, page_url(appointment, "/identity"), {"date_of_birth": "1990-05-17"}).status_code == 200


def test_a_switch_from_a_browser_without_the_link_changes_only_its_page(client: Client, department) -> None:
    """A forwarded link or a link-preview bot: `?lang=cy` with no cookie and no identity check shows Welsh, but the
    claimant's language, its history and its events stay as they were."""
    appointment = soon(department)
    before = _traces(appointment)
    welsh = Client().get(page_url(appointment) + "?lang=cy")
    assert '<html lang="cy">' in welsh.content.decode()
    # A browser that opened the page (its cookie for the link) but was never asked who it is: the same.
    client.get(page_url(appointment))
    assert '<html lang="cy">' in client.get(page_url(appointment) + "?lang=cy").content.decode()
    assert '<html lang="cy">' in client.get(page_url(appointment)).content.decode()  # kept by this browser
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language is None
    assert _traces(appointment) == before
    assert not Event.objects.filter(appointment=appointment, type=EventType.APPOINTMENT_UPDATED).exists()
    # Another browser still opens the page in English: nothing of the first browser's choice is the claimant's.
    assert '<html lang="en">' in Client().get(page_url(appointment)).content.decode()


def test_a_browser_that_is_not_the_claimants_keeps_nothing_even_after_they_pass(client: Client, department) -> None:
    """The claimant passed the identity check in their own browser: a forwarded copy of the link still keeps nothing."""
    appointment = soon(department)
    _known(client, appointment)
    before = _traces(appointment)
    Client().get(page_url(appointment) + "?lang=cy")
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language is None
    assert _traces(appointment) == before


def test_the_claimants_switch_is_kept_as_their_preferred_language(client: Client, department, agent) -> None:
    appointment = soon(department)
    url = f"/api/v1/appointments/{appointment.pk}"
    assert "preferred_language" not in agent.client().get(url).json()["data"]["claimant"]  # absent while unset
    _known(client, appointment)
    before = _traces(appointment)
    client.get(page_url(appointment) + "?lang=cy")
    client.get(page_url(appointment) + "?lang=cy")  # the same choice again: kept once
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language == "cy"
    claimant_rows, _, events = before
    assert Claimant.history.filter(id=appointment.claimant.pk).count() == claimant_rows + 1
    assert Event.objects.filter(appointment=appointment).count() == events + 1
    assert Event.objects.filter(appointment=appointment, type=EventType.APPOINTMENT_UPDATED).count() == 1
    assert agent.client().get(url).json()["data"]["claimant"]["preferred_language"] == "cy"
    # Another browser, which never chose, opens the claimant's page in Welsh: the language is the claimant's.
    other = Client(headers={"Accept-Language": "en-GB"}).get(page_url(appointment))
    assert '<html lang="cy">' in other.content.decode()


def test_a_choice_made_before_the_identity_check_is_kept_when_it_passes(client: Client, department) -> None:
    """Chosen first, before the check (this page only, as any browser's), then the check passes in the same
    browser: it is the claimant's, so the choice is kept for their messages, once, without switching again."""
    appointment = soon(department)
    welsh = client.get(page_url(appointment) + "?lang=cy")
    assert '<html lang="cy">' in welsh.content.decode()
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language is None
    claimant_rows = _traces(appointment)[0]
    _known(client, appointment)
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language == "cy"
    assert Claimant.history.filter(id=appointment.claimant.pk).count() == claimant_rows + 1
    assert Event.objects.filter(appointment=appointment, type=EventType.APPOINTMENT_UPDATED).count() == 1
    _known(client, appointment)  # passing again in the same browser keeps nothing more
    assert _traces(appointment)[0] == claimant_rows + 1


def test_a_wrong_date_of_birth_keeps_no_choice(client: Client, department) -> None:
    appointment = soon(department)
    client.get(page_url(appointment) + "?lang=cy")
    before = _traces(appointment)
    assert post(client, page_url(appointment, "/identity"), {"date_of_birth": "1991-05-17"}).status_code == 422
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language is None
    assert _traces(appointment)[0] == before[0]


def test_a_departments_default_language_applies_until_one_is_chosen(client: Client, department) -> None:
    department.default_language = "cy"
    department.save(update_fields=["default_language"])
    appointment = soon(department)
    assert '<html lang="cy">' in client.get(page_url(appointment)).content.decode()
    _known(client, appointment)
    assert '<html lang="en">' in client.get(page_url(appointment) + "?lang=en").content.decode()
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language == "en"


def test_a_bilingual_departments_pages_are_welsh_first(client: Client, department) -> None:
    """Welsh Language Standards: a bilingual department's page opens in Welsh (whatever English the browser sends),
    its switch names Cymraeg first, and English is one choice away, kept for the claimant as any choice is."""
    department.bilingual = True
    department.save(update_fields=["bilingual"])
    appointment = soon(department)
    welsh = client.get(page_url(appointment), headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = welsh.content.decode()
    assert '<html lang="cy">' in html
    assert "Eich apwyntiad fideo" in html
    assert html.index(">Cymraeg<") < html.index(">English<")
    _known(client, appointment)
    english = client.get(page_url(appointment) + "?lang=en").content.decode()
    assert '<html lang="en">' in english
    assert english.index(">Cymraeg<") < english.index(">English<")
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language == "en"


def test_the_api_sets_and_unsets_the_language_and_refuses_others(appointment, agent) -> None:
    api, url = agent.client(), f"/api/v1/appointments/{appointment.pk}"
    for value in ("fr", "CY", "cy-GB", 5, True):
        refused = api.patch(url, {"claimant": {"preferred_language": value}}, format="json")
        assert refused.status_code == 422, value
        assert "claimant.preferred_language" in refused.json()["errors"]
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language is None
    assert api.patch(url, {"claimant": {"preferred_language": "cy"}}, format="json").status_code == 200
    appointment.claimant.refresh_from_db()
    assert appointment.claimant.preferred_language == "cy"
    unset = api.patch(url, {"claimant": {"preferred_language": None}}, format="json")
    assert unset.status_code == 200
    assert "preferred_language" not in unset.json()["data"]["claimant"]
