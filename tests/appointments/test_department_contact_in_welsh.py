"""A department's free texts for claimants in Welsh too (a gap left by issue 22.1's Welsh journey: its opening
hours and help sentence were English on Welsh pages and in Welsh messages). A manager writes them beside the
English ones; a Welsh page, and the Welsh part of a message, shows the Welsh; where the Welsh is blank the English
is shown, marked as English for screen readers; English pages show English, so a Welsh text needs its English.
The organisation's own hours (CONTACT_HOURS) have a Welsh setting likewise; the API lists them additively."""

from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from appointments.models import Department
from claimants.models import Claimant
from tests.appointments.test_department_contact import CONTACT, department_form, page, soon
from tests.factories import DepartmentFactory
from tests.helpers import logged_in, rewrite, run_command, run_tasks, staff

pytestmark = pytest.mark.django_db

WELSH = {
    "contact_hours_cy": "Dydd Llun i ddydd Gwener, 9:00 i 17:00",
    "contact_help_cy": "Cofiwch gael rhif eich achos wrth law pan fyddwch yn ffonio.",
}
HOURS, HELP = CONTACT["contact_hours"], CONTACT["contact_help"]
ORIAU, CYMORTH = WELSH["contact_hours_cy"], WELSH["contact_help_cy"]


@pytest.fixture
def in_both(department: Department) -> Department:
    Department.objects.filter(pk=department.pk).update(**CONTACT, **WELSH)
    department.refresh_from_db()
    return department


def welsh_page(appointment: Any) -> str:
    html = Client().get(f"/join/{appointment.public_token}?lang=cy").content.decode()
    assert '<html lang="cy">' in html
    return html


class TestTheClaimantsPage:
    def test_a_welsh_page_shows_the_welsh_texts_and_an_english_page_the_english(self, client, in_both) -> None:
        appointment = soon(in_both)
        welsh = welsh_page(appointment)
        assert ORIAU in welsh
        assert CYMORTH in welsh
        assert HOURS not in welsh
        assert HELP not in welsh
        english = page(client, appointment)
        assert HOURS in english
        assert HELP in english
        assert ORIAU not in english
        assert CYMORTH not in english

    def test_without_welsh_texts_a_welsh_page_shows_the_english_marked_as_english(self, department) -> None:
        Department.objects.filter(pk=department.pk).update(**CONTACT)
        html = welsh_page(soon(department))
        # Read in an English voice by a screen reader on the Welsh page (WCAG 3.1.2).
        assert f'<p lang="en">{HELP}</p>' in html
        assert f'<span lang="en">{HOURS}</span>' in html

    def test_the_welsh_texts_carry_no_language_of_their_own(self, in_both) -> None:
        html = welsh_page(soon(in_both))
        assert f"<p>{CYMORTH}</p>" in html
        assert 'lang="en">' not in html.split('id="contact-heading"')[1].split("</section>")[0]

    def test_the_organisations_hours_in_welsh(self, client, department, settings) -> None:
        settings.CONTACT_PHONE = "0300 123 4567"
        settings.CONTACT_HOURS = "Every day, 8:00 to 20:00"
        settings.CONTACT_HOURS_CY = "Bob dydd, 8:00 i 20:00"
        appointment = soon(department)
        welsh = welsh_page(appointment)
        assert "Bob dydd, 8:00 i 20:00" in welsh
        assert "Every day, 8:00 to 20:00" not in welsh
        english = page(client, appointment)
        assert "Every day, 8:00 to 20:00" in english
        assert "Bob dydd" not in english


class TestTheMessages:
    def test_a_bilingual_departments_message_has_each_text_in_its_own_language(self, in_both) -> None:
        Department.objects.filter(pk=in_both.pk).update(bilingual=True)
        soon(in_both, minutes=3 * 60)
        run_tasks()
        [message] = mail.outbox
        assert isinstance(message, EmailMultiAlternatives)
        html = str(message.alternatives[0][0])
        for written in (message.body, html):
            for text in (ORIAU, CYMORTH, HOURS, HELP):
                assert written.count(text) == 1, text
            # Welsh first: each Welsh text in the Welsh part, before the English part begins.
            assert written.index(CYMORTH) < written.index(ORIAU) < written.index(HELP) < written.index(HOURS)
        assert html.index('lang="cy"') < html.index(ORIAU) < html.index('lang="en"') < html.index(HOURS)

    def test_a_claimant_who_chose_welsh_reads_the_welsh_alone(self, in_both) -> None:
        appointment = soon(in_both, minutes=3 * 60)
        rewrite(Claimant.objects.filter(appointment=appointment), preferred_language="cy")
        run_tasks()
        [message] = mail.outbox
        assert isinstance(message, EmailMultiAlternatives)
        for written in (message.body, str(message.alternatives[0][0])):
            assert ORIAU in written
            assert CYMORTH in written
            assert HOURS not in written
            assert HELP not in written

    def test_a_welsh_message_marks_the_english_it_falls_back_to(self, department) -> None:
        Department.objects.filter(pk=department.pk).update(**CONTACT)
        appointment = soon(department, minutes=3 * 60)
        rewrite(Claimant.objects.filter(appointment=appointment), preferred_language="cy")
        run_tasks()
        [message] = mail.outbox
        assert isinstance(message, EmailMultiAlternatives)
        html = str(message.alternatives[0][0])
        assert f'<span lang="en">{HELP}</span>' in html
        assert f'<span lang="en">{HOURS}</span>' in html
        assert HELP in message.body  # the text message has no markup to say it

    def test_an_english_message_is_as_before(self, in_both) -> None:
        soon(in_both, minutes=3 * 60)
        run_tasks()
        [message] = mail.outbox
        assert HOURS in message.body
        assert HELP in message.body
        assert ORIAU not in message.body
        assert CYMORTH not in message.body


class TestKeptInTheBackOffice:
    def test_a_manager_writes_them_and_saving_unchanged_keeps_them(self) -> None:
        department = DepartmentFactory.create(name="Motor")
        manager = logged_in(staff("manager", department, group="Department managers"))
        url = f"/admin/appointments/department/{department.pk}/change/"
        html = manager.get(url).content.decode()
        assert 'name="contact_hours_cy"' in html
        assert 'name="contact_help_cy"' in html
        response = manager.post(url, department_form(department, **CONTACT, **WELSH))
        assert response.status_code == 302, response.context["adminform"].form.errors
        department.refresh_from_db()
        assert {name: getattr(department, name) for name in WELSH} == WELSH
        unchanged = {name: getattr(department, name) for name in WELSH}
        assert manager.post(url, department_form(department, **unchanged)).status_code == 302
        department.refresh_from_db()
        assert {name: getattr(department, name) for name in CONTACT | WELSH} == CONTACT | WELSH

    def test_a_welsh_text_without_its_english_is_refused_and_nothing_saved(self) -> None:
        department = DepartmentFactory.create(name="Motor")
        manager = logged_in(staff("manager", department, group="Department managers"))
        url = f"/admin/appointments/department/{department.pk}/change/"
        response = manager.post(url, department_form(department, contact_phone=CONTACT["contact_phone"], **WELSH))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert sorted(errors) == ["contact_help", "contact_hours"]
        assert "Write the opening hours in English too" in errors["contact_hours"][0]
        department.refresh_from_db()
        assert (department.contact_phone, department.contact_hours_cy, department.contact_help_cy) == ("", "", "")

    def test_the_welsh_sits_below_its_english(self) -> None:
        department = DepartmentFactory.create(name="Motor")
        manager = logged_in(staff("manager", department, group="Department managers"))
        html = manager.get(f"/admin/appointments/department/{department.pk}/change/").content.decode()
        order = ["contact_hours", "contact_hours_cy", "contact_help", "contact_help_cy"]
        assert sorted(order, key=lambda name: html.index(f'name="{name}"')) == order


def test_the_organisations_welsh_hours_without_english_fail_the_checks(settings) -> None:
    from appointments.checks import organisation_contact_check

    settings.CONTACT_HOURS_CY = "Bob dydd, 8:00 i 20:00"
    assert [error.id for error in organisation_contact_check()] == ["appointments.E003"]
    settings.CONTACT_HOURS = "Every day, 8:00 to 20:00"
    assert organisation_contact_check() == []


def test_the_demo_department_has_them_in_welsh(db) -> None:
    from appointments.management.commands.seed_demo import DEMO_DEPARTMENT

    run_command("seed_demo")
    demo = Department.objects.get(name=DEMO_DEPARTMENT)
    assert demo.contact_hours_cy
    assert demo.contact_help_cy


def test_the_api_lists_them_only_where_set(api, agent, in_both) -> None:
    english_only = DepartmentFactory.create(name="English only")
    english_only.members.add(agent.user)
    Department.objects.filter(pk=english_only.pk).update(**CONTACT)
    listed = {item["name"]: item for item in api.get("/api/v1/departments").json()["data"]}
    assert listed["Claims"]["contact"] == {
        "phone": "+442071234567",
        "email": "claims@example.org",
        "opening_hours": HOURS,
        "help_text": HELP,
        "opening_hours_cy": ORIAU,
        "help_text_cy": CYMORTH,
    }
    assert set(listed["English only"]["contact"]) == {"phone", "email", "opening_hours", "help_text"}


def test_the_departments_page_can_be_saved_from_its_top(department) -> None:
    """Walked by keyboard: Save was some 160 Tab presses down, below the hours, the fields and the contact details."""
    manager = logged_in(staff("manager", department, group="Department managers"))
    html = manager.get(f"/admin/appointments/department/{department.pk}/change/").content.decode()
    assert html.count('name="_save"') == 2
    assert html.index('name="_save"') < html.index("<fieldset")
