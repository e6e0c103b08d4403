"""Issue 17.8: "please contact the department" comes with a way to do so. A department has contact details (phone,
email, opening hours, a short help text), kept on its page in the back office, shown on every page a claimant can
see and in every message (text and HTML; the phone in the texts that send no link), and listed by the API's
departments endpoint (additive). A department without any falls back to the organisation's (CONTACT_* settings),
and without those to a sentence that still names the department."""

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from appointments.models import Appointment, Department, Status
from appointments.services import appointment_cancel, appointment_update
from meetings.models import Participant, Role
from notifications.sms import MemoryBackend
from tests.factories import DepartmentFactory, make_appointment
from tests.helpers import claimant_joins, hours_forms, logged_in, rewrite, run_command, run_tasks, staff, walk_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_outbox")]

CONTACT = {
    "contact_phone": "+442071234567",
    "contact_email": "claims@example.org",
    "contact_hours": "Monday to Friday, 9:00 to 17:00",
    "contact_help": "Have your case number ready when you call.",
}
SHOWN = ["+44 20 7123 4567", 'href="tel:+442071234567"', 'href="mailto:claims@example.org"',
         "Monday to Friday, 9:00 to 17:00", "Have your case number ready when you call."]  # fmt: skip
IN_TEXT = ["+44 20 7123 4567", "claims@example.org", "Monday to Friday, 9:00 to 17:00",
           "Have your case number ready when you call."]  # fmt: skip
CLAIMANT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone_number": "+447911123456",
    "date_of_birth": date(1990, 5, 17),
    "data": {"Case number": "C-1"},
}


@pytest.fixture
def reachable(department: Department) -> Department:
    Department.objects.filter(pk=department.pk).update(**CONTACT)
    department.refresh_from_db()
    return department


def soon(department: Department, minutes: int = 10, **options: Any) -> Appointment:
    at = (timezone.now() + timedelta(minutes=minutes)).replace(microsecond=0)
    return make_appointment(department, appointment_at=at, duration_in_minutes=30, claimant=CLAIMANT, **options)


def page(client: Any, appointment: Appointment) -> str:
    return client.get(f"/join/{appointment.public_token}").content.decode()


class TestEveryClaimantPage:
    def states(self, department: Department, client: Any) -> dict[str, str]:
        """The claimant's page in each state it has, read by the claimant's own link."""
        pages: dict[str, str] = {}
        early = soon(department, minutes=24 * 60)
        pages["early"] = page(client, early)
        checks = soon(department)
        pages["checks"] = page(client, checks)
        waiting = soon(department)
        claimant_joins(waiting)
        pages["waiting"] = page(client, waiting)
        locked = soon(department)
        rewrite(Participant.objects.filter(appointment=locked, role=Role.CLAIMANT), identity_locked_at=timezone.now())
        pages["locked"] = page(client, locked)
        cancelled = soon(department)
        appointment_cancel(appointment=cancelled, reason=None, actor=None)
        pages["cancelled"] = page(client, cancelled)
        no_show = walk_to(soon(department), Status.NO_SHOW)
        pages["no_show"] = page(client, no_show)
        completed = walk_to(soon(department), Status.COMPLETED)
        pages["completed"] = page(client, completed)
        missed = soon(department)
        claimant_joins(missed)
        with time_machine.travel(missed.ends_at + timedelta(minutes=16), tick=False):
            run_command("mark_no_shows")
            pages["missed"] = page(client, missed)
            closed = soon(department)  # never started, its window has passed (the check has not run)
        with time_machine.travel(closed.ends_at + timedelta(minutes=16), tick=False):
            pages["closed"] = page(client, closed)
        return pages

    def test_each_state_shows_the_departments_contact_details(self, client, reachable) -> None:
        pages = self.states(reachable, client)
        assert 'data-state="missed"' in pages["missed"]
        assert 'data-state="closed"' in pages["closed"]
        for state, html in pages.items():
            for text in SHOWN:
                assert text in html, (state, text)

    def test_a_department_without_details_falls_back_to_the_organisations(self, client, department, settings) -> None:
        settings.CONTACT_PHONE = "0300 123 4567"
        settings.CONTACT_EMAIL = "help@example.org"
        settings.CONTACT_HOURS = "Every day, 8:00 to 20:00"
        for state, html in self.states(department, client).items():
            for text in ('href="tel:+443001234567"', "+44 300 123 4567", 'href="mailto:help@example.org"',
                         "Every day, 8:00 to 20:00"):  # fmt: skip
                assert text in html, (state, text)

    def test_without_any_details_the_page_still_says_whom_to_contact(self, client, department) -> None:
        for state, html in self.states(department, client).items():
            assert "Please contact Claims using the details in the message that gave you this link." in html, state
            assert "tel:" not in html
            assert "mailto:" not in html

    def test_the_not_found_page_names_no_department_but_the_organisations_contact(
        self, client, reachable, settings
    ) -> None:
        settings.CONTACT_PHONE = "0300 123 4567"
        html = client.get("/join/" + "x" * 32).content.decode()
        assert 'href="tel:+443001234567"' in html
        assert "Claims" not in html
        assert "+44 20 7123 4567" not in html


class TestEveryMessage:
    def test_every_email_and_the_texts_without_a_link_carry_the_details(self, reachable, agent) -> None:
        appointment = soon(reachable, minutes=3 * 60)  # booked
        run_tasks()
        appointment_update(  # moved
            appointment=appointment,
            data={"appointment_at": appointment.appointment_at + timedelta(hours=1)},
            actor=None,
        )
        run_tasks()
        moved = Appointment.objects.get(pk=appointment.pk)
        run_tasks(until=moved.appointment_at - timedelta(minutes=59))  # the reminder an hour before
        missed = soon(reachable)
        run_tasks()
        claimant_joins(missed)
        with time_machine.travel(missed.ends_at + timedelta(seconds=2), tick=False):
            run_tasks()  # missed by the organisation: the apology
        appointment_cancel(appointment=appointment, reason=None, actor=agent.user)  # cancelled
        run_tasks()
        subjects = [message.subject for message in mail.outbox]
        for kind in ("Your video appointment with Claims:", "has moved", "Reminder", "is cancelled", "could not go"):
            assert any(kind in subject for subject in subjects), (kind, subjects)
        for message in mail.outbox:
            assert isinstance(message, EmailMultiAlternatives)
            html = str(message.alternatives[0][0])
            for text in IN_TEXT:
                assert text in message.body, (message.subject, text)
                assert text in html, (message.subject, text)
            assert 'href="tel:+442071234567"' in html
        texts = [text for _to, text in MemoryBackend.outbox]
        no_link = [text for text in texts if "/join/" not in text]
        assert len(no_link) == 2  # the cancel and the apology
        for text in no_link:
            assert "+44 20 7123 4567" in text

    def test_a_message_without_details_says_whom_to_contact(self, department) -> None:
        soon(department, minutes=3 * 60)
        run_tasks()
        [message] = mail.outbox
        assert "please contact Claims" in message.body
        assert isinstance(message, EmailMultiAlternatives)
        assert "tel:" not in str(message.alternatives[0][0])


def department_form(department: Department, **changes: str) -> dict[str, Any]:
    """The department's page as a manager posts it, its contact details as they are, with `changes`."""
    data = {
        "features_bandwidth": department.features_bandwidth,
        "reminder_hours": department.reminder_hours,
        "time_zone": department.time_zone,
        "default_language": department.default_language,
        "data_fields-TOTAL_FORMS": "0",
        "data_fields-INITIAL_FORMS": "0",
        "data_fields-MIN_NUM_FORMS": "0",
        "data_fields-MAX_NUM_FORMS": "1000",
        **hours_forms(department),
    }
    data |= {name: getattr(department, name) for name in CONTACT}
    return data | changes


class TestKeptInTheBackOffice:
    form = staticmethod(department_form)

    def test_a_manager_sets_them_on_the_departments_page(self) -> None:
        department = DepartmentFactory.create(name="Motor")
        manager = logged_in(staff("manager", department, group="Department managers"))
        url = f"/admin/appointments/department/{department.pk}/change/"
        assert 'name="contact_phone"' in manager.get(url).content.decode()
        changes = CONTACT | {"contact_phone": "020 7123 4567"}  # typed as people write it, kept in E.164
        response = manager.post(url, self.form(department, **changes))
        assert response.status_code == 302, response.context["adminform"].form.errors
        department.refresh_from_db()
        assert {name: getattr(department, name) for name in CONTACT} == CONTACT
        assert manager.post(url, self.form(department)).status_code == 302  # saved unchanged: nothing changes
        department.refresh_from_db()
        assert {name: getattr(department, name) for name in CONTACT} == CONTACT

    @pytest.mark.parametrize(("field", "value"), [("contact_phone", "not a number"), ("contact_email", "nobody")])
    def test_a_bad_phone_or_email_is_refused_and_nothing_saved(self, field: str, value: str) -> None:
        department = DepartmentFactory.create(name="Motor")
        manager = logged_in(staff("manager", department, group="Department managers"))
        url = f"/admin/appointments/department/{department.pk}/change/"
        response = manager.post(url, self.form(department, **(CONTACT | {field: value})))
        assert response.status_code == 200
        assert list(response.context["adminform"].form.errors) == [field]
        department.refresh_from_db()
        assert all(getattr(department, name) == "" for name in CONTACT)

    def test_the_list_says_which_departments_have_none(self, reachable) -> None:
        DepartmentFactory.create(name="Unreachable")
        root = logged_in(staff("root", superuser=True))
        html = root.get("/admin/appointments/department/").content.decode()
        assert html.count("No contact details") == 1


def test_the_demo_department_has_them(db) -> None:
    from appointments.management.commands.seed_demo import DEMO_DEPARTMENT

    run_command("seed_demo")
    demo = Department.objects.get(name=DEMO_DEPARTMENT)
    assert demo.contact_phone.startswith("+44")
    assert demo.contact_email
    assert demo.contact_hours
    assert demo.contact_help


class TestTheApi:
    def test_the_departments_list_carries_them_only_where_set(self, api, agent, reachable) -> None:
        bare = DepartmentFactory.create(name="Bare")
        bare.members.add(agent.user)
        listed = {item["name"]: item for item in api.get("/api/v1/departments").json()["data"]}
        assert listed["Claims"]["contact"] == {
            "phone": "+442071234567",
            "email": "claims@example.org",
            "opening_hours": "Monday to Friday, 9:00 to 17:00",
            "help_text": "Have your case number ready when you call.",
        }
        assert "contact" not in listed["Bare"]
        Department.objects.filter(pk=bare.pk).update(contact_email="bare@example.org")
        listed = {item["name"]: item for item in api.get("/api/v1/departments").json()["data"]}
        assert listed["Bare"]["contact"] == {"email": "bare@example.org"}


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [("CONTACT_PHONE", "call us", "appointments.E001"), ("CONTACT_EMAIL", "help at example", "appointments.E002")],
)
def test_a_malformed_organisation_contact_fails_the_checks(settings, setting: str, value: str, error: str) -> None:
    from appointments.checks import organisation_contact_check

    assert organisation_contact_check() == []
    setattr(settings, setting, value)
    assert [found.id for found in organisation_contact_check()] == [error]


def test_the_texts_for_claimants_have_inputs_as_wide_as_a_sentence(department) -> None:
    """A walk found the opening hours and the help sentence in inputs showing about 35 of their 200 and 300
    characters: a manager could not read back what they wrote. Each text of 200 characters or more has Django's
    wide input (fitted to a phone's screen by the admin's own styles: tests/e2e/test_department_page.py)."""
    root = logged_in(staff("root", superuser=True))
    html = root.get(f"/admin/appointments/department/{department.pk}/change/").content.decode()

    def tag(name: str) -> str:
        [found] = [part.split(">")[0] for part in html.split("<input")[1:] if f'name="{name}"' in part.split(">")[0]]
        return found

    for name in ("name", "name_cy", "contact_hours", "contact_hours_cy", "contact_help", "contact_help_cy"):
        assert 'class="vLargeTextField"' in tag(name), name
    assert 'type="email"' in tag("contact_email")
    assert 'class="vTextField"' in tag("reminder_hours")


def test_the_welsh_texts_are_edited_as_welsh(department) -> None:
    """A walk found the Welsh name's input unmarked: a screen reader read what was typed in an English voice and the
    browser checked its spelling as English. Each Welsh field's input says it is Welsh; the others say nothing."""
    root = logged_in(staff("root", superuser=True))
    html = root.get(f"/admin/appointments/department/{department.pk}/change/").content.decode()
    inputs = {
        name: part.split(">")[0]
        for part in html.split("<input")[1:]
        if (name := part.split('name="')[1].split('"')[0] if 'name="' in part.split(">")[0] else "")
    }
    for name in ("name_cy", "contact_hours_cy", "contact_help_cy"):
        assert 'lang="cy"' in inputs[name], name
    for name in ("name", "contact_hours", "contact_help", "contact_email"):
        assert "lang=" not in inputs[name], name
