"""A department's name in Welsh (left by the Welsh journey, issue 22.1, and by the Welsh contact texts: a claimant
reading Welsh read every sentence in Welsh but the department's name in English: "Apwyntiad fideo gyda Claims").
A manager writes it beside the English; every Welsh page, the Welsh part of every message, the calendar file and
the meeting's title name the department in Welsh; a blank one gives the English name; English pages and messages
are as before. The API lists it additively, only where it is set."""

from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone, translation

from appointments.models import Department
from claimants.models import Claimant
from meetings.models import Participant, Role
from meetings.video import iframe_options
from notifications.sms import MemoryBackend
from tests.appointments import test_department_contact as contact_tests
from tests.appointments.test_department_contact import department_form, soon
from tests.factories import DepartmentFactory
from tests.helpers import logged_in, rewrite, run_command, run_tasks, staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_outbox")]

ENW = "Tîm Hawliadau"  # the fixture's department is "Claims"


@pytest.fixture
def named(department: Department) -> Department:
    Department.objects.filter(pk=department.pk).update(name_cy=ENW)
    department.refresh_from_db()
    return department


def states(department: Department, client: Any) -> dict[str, str]:
    """The claimant's page in each state it has (the contact tests' walk through them)."""
    return contact_tests.TestEveryClaimantPage().states(department, client)


def welsh(department: Department) -> Department:
    """The department's claimants read Welsh until they choose otherwise."""
    Department.objects.filter(pk=department.pk).update(default_language="cy")
    department.refresh_from_db()
    return department


class TestTheClaimantsPages:
    def test_every_state_of_a_welsh_page_names_the_department_in_welsh(self, client, named) -> None:
        pages = states(welsh(named), client)
        for state, html in pages.items():
            assert '<html lang="cy">' in html, state
            assert f'<p class="org">{ENW}</p>' in html, state
            assert f"· {ENW}</title>" in html, state
            assert "Claims" not in html, state

    def test_an_english_page_keeps_the_english_name(self, client, named) -> None:
        for state, html in states(named, client).items():
            assert '<p class="org">Claims</p>' in html, state
            assert ENW not in html, state

    def test_without_a_welsh_name_a_welsh_page_gives_the_english(self, client, department) -> None:
        for state, html in states(welsh(department), client).items():
            assert '<p class="org">Claims</p>' in html, state

    def test_the_change_page(self, named) -> None:
        appointment = soon(welsh(named), minutes=3 * 24 * 60)
        html = Client().get(f"/join/{appointment.public_token}/change").content.decode()
        assert '<html lang="cy">' in html
        assert f'<p class="org">{ENW}</p>' in html
        assert "Claims" not in html

    def test_the_calendar_file(self, named) -> None:
        appointment = soon(welsh(named))
        ics = Client().get(f"/join/{appointment.public_token}/calendar.ics").content.decode()
        unfolded = ics.replace("\r\n ", "")
        assert f"SUMMARY:Apwyntiad fideo gyda {ENW}" in unfolded
        [organizer] = [line for line in unfolded.splitlines() if line.startswith("ORGANIZER")]
        assert ENW in organizer
        assert "Claims" not in unfolded

    def test_the_meetings_title(self, named) -> None:
        appointment = soon(named)
        claimant = Participant.objects.select_related("appointment__department").get(
            appointment=appointment, role=Role.CLAIMANT
        )
        with translation.override("cy"):
            subject = iframe_options(claimant, recording=False, now=timezone.now())["configOverwrite"]["subject"]
        assert subject == f"Apwyntiad {ENW}"
        with translation.override("en"):
            subject = iframe_options(claimant, recording=False, now=timezone.now())["configOverwrite"]["subject"]
        assert subject == "Claims appointment"


class TestTheMessages:
    def test_a_bilingual_message_names_it_in_each_language(self, named) -> None:
        Department.objects.filter(pk=named.pk).update(bilingual=True)
        soon(named, minutes=3 * 60)
        run_tasks()
        [message] = mail.outbox
        assert isinstance(message, EmailMultiAlternatives)
        html = str(message.alternatives[0][0])
        for written in (message.body, html):
            # Welsh first: the Welsh name in the Welsh part, the English in the English part.
            assert written.index(ENW) < written.index("----------" if written is message.body else 'lang="en"')
            assert written.rindex(ENW) < written.index("Claims")
        assert message.subject.startswith(f"Eich apwyntiad fideo gyda {ENW}")
        assert "Claims" in message.subject
        [(_to, sms)] = MemoryBackend.outbox
        assert sms.index(ENW) < sms.index("Claims")
        [(_name, ics, _type)] = message.attachments
        calendar = ics.replace("\r\n ", "")
        assert f"SUMMARY:Apwyntiad fideo gyda {ENW} / Video appointment with Claims" in calendar
        [organizer] = [line for line in calendar.splitlines() if line.startswith("ORGANIZER")]
        assert ENW in organizer  # one organiser: in the message's first language

    def test_a_claimant_who_chose_welsh_reads_the_welsh_name_alone(self, named) -> None:
        appointment = soon(named, minutes=3 * 60)
        rewrite(Claimant.objects.filter(appointment=appointment), preferred_language="cy")
        run_tasks()
        [message] = mail.outbox
        assert isinstance(message, EmailMultiAlternatives)
        [(_name, ics, _type)] = message.attachments
        calendar = ics.replace("\r\n ", "")
        for written in (message.subject, message.body, str(message.alternatives[0][0]), MemoryBackend.outbox[0][1],
                        calendar):  # fmt: skip
            assert ENW in written
            assert "Claims" not in written

    def test_an_english_message_is_as_before(self, named) -> None:
        soon(named, minutes=3 * 60)
        run_tasks()
        [message] = mail.outbox
        assert "Claims" in message.subject
        assert "Claims" in message.body
        assert ENW not in message.body
        assert ENW not in MemoryBackend.outbox[0][1]


class TestKeptInTheBackOffice:
    def test_a_manager_writes_it_below_the_name_and_saving_unchanged_keeps_it(self) -> None:
        department = DepartmentFactory.create(name="Motor")
        manager = logged_in(staff("manager", department, group="Department managers"))
        url = f"/admin/appointments/department/{department.pk}/change/"
        html = manager.get(url).content.decode()
        assert html.index("Motor") < html.index('name="name_cy"') < html.index('name="features_bandwidth"')
        response = manager.post(url, department_form(department, name_cy="Moduron"))
        assert response.status_code == 302, response.context["adminform"].form.errors
        department.refresh_from_db()
        assert (department.name, department.name_cy) == ("Motor", "Moduron")
        assert manager.post(url, department_form(department, name_cy=department.name_cy)).status_code == 302
        department.refresh_from_db()
        assert (department.name, department.name_cy) == ("Motor", "Moduron")

    def test_a_superuser_writes_both(self) -> None:
        department = DepartmentFactory.create(name="Motor")
        root = logged_in(staff("root", superuser=True))
        html = root.get(f"/admin/appointments/department/{department.pk}/change/").content.decode()
        assert html.index('name="name"') < html.index('name="name_cy"') < html.index('name="members"')


def test_the_demo_department_has_a_welsh_name(db) -> None:
    from appointments.management.commands.seed_demo import DEMO_DEPARTMENT

    run_command("seed_demo")
    assert Department.objects.get(name=DEMO_DEPARTMENT).name_cy


def test_the_api_lists_it_only_where_set(api, agent, named) -> None:
    english_only = DepartmentFactory.create(name="English only")
    english_only.members.add(agent.user)
    listed = {item["name"]: item for item in api.get("/api/v1/departments").json()["data"]}
    assert listed["Claims"]["name_cy"] == ENW
    assert "name_cy" not in listed["English only"]
