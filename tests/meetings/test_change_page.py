"""The claimant's "Change or cancel" page (issue 23.2) over HTTP: behind the identity check, CSRF on every POST, a
time chosen then confirmed, a time taken meanwhile refused with the next ones, a cancel with its reason, and the
department's contact details in place of the forms inside the notice; in Welsh too."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client

from appointments.availability import BookingRules, WorkingHours
from appointments.models import Appointment, Department, Status
from meetings.models import Participant, Role
from tests.factories import UserFactory, make_appointment

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # Monday 22 March 2027, 07:00 GMT
AT = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(clock, department: Department) -> Appointment:
    department.time_zone = "Europe/London"
    department.contact_phone = "020 7123 4567"
    department.save(update_fields=["time_zone", "contact_phone"])
    BookingRules.objects.create(department=department, slot_minutes=60, notice_to_reschedule_minutes=24 * 60)
    ann = UserFactory.create(username="ann", is_staff=True)
    department.members.add(ann)
    for weekday in range(5):
        WorkingHours.objects.create(
            department=department, agent=ann, weekday=weekday, starts_at=time(9), ends_at=time(17)
        )
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    return make_appointment(department, appointment_at=AT, duration_in_minutes=60, claimant=claimant, agent_id=ann.pk)


def url(appointment: Appointment, step: str = "") -> str:
    return f"/join/{appointment.public_token}{step}"


def known(client: Client, appointment: Appointment) -> Client:
    """The claimant confirms who they are on the page's own form, days before the join window opens."""
    client.get(url(appointment, "/change"))
    answer = client.post(url(appointment, "/change"), {"action": "identity", "day": "17", "month": "5", "year": "1990"})
    assert answer.status_code == 302, answer.content
    return client


def test_the_page_asks_who_the_claimant_is_first_days_ahead_and_counts_wrong_tries(client, booked) -> None:
    assert 'id="change-or-cancel"' in client.get(url(booked)).content.decode()  # the link, before the window
    page = client.get(url(booked, "/change")).content.decode()
    assert 'id="change-identity-form"' in page
    assert 'name="time"' not in page
    assert "Ada" not in page
    wrong = client.post(url(booked, "/change"), {"action": "identity", "day": "1", "month": "1", "year": "2001"})
    assert wrong.status_code == 422
    assert "tries left" in wrong.content.decode()
    assert Participant.objects.get(appointment=booked, role=Role.CLAIMANT).identity_failures == 1
    known(client, booked)
    page = client.get(url(booked, "/change")).content.decode()
    assert "Change the time" in page
    assert 'name="time"' in page


def test_a_time_is_chosen_confirmed_and_the_appointment_moves(client, booked) -> None:
    known(client, booked)
    page = client.get(url(booked, "/change"), {"after": "2027-03-25T00:00:00+00:00"}).content.decode()
    value = f"2027-03-25T14:00:00+00:00|{booked.agent_id}"
    assert f'value="{value}"' in page
    confirm = client.post(url(booked, "/change"), {"action": "choose", "time": value}).content.decode()
    assert "Confirm your new time" in confirm
    assert "Thursday 25 March 2027 at 14:00 GMT" in confirm
    assert Appointment.objects.get(pk=booked.pk).appointment_at == AT  # nothing moves before the confirmation
    done = client.post(url(booked, "/change"), {"action": "reschedule", "time": value})
    assert done.status_code == 200
    assert "Your appointment has moved" in done.content.decode()
    assert Appointment.objects.get(pk=booked.pk).appointment_at == datetime(2027, 3, 25, 14, tzinfo=UTC)


def test_a_time_taken_meanwhile_is_offered_again_with_the_next_ones(client, booked, department) -> None:
    known(client, booked)
    make_appointment(department, appointment_at=datetime(2027, 3, 25, 14, tzinfo=UTC), agent_id=booked.agent_id)
    value = f"2027-03-25T14:00:00+00:00|{booked.agent_id}"
    answer = client.post(url(booked, "/change"), {"action": "reschedule", "time": value})
    page = answer.content.decode()
    assert answer.status_code == 409
    assert "that time has just gone" in page
    assert f'value="{value}"' not in page
    assert "2027-03-25T15:00:00+00:00" in page


def test_a_cancel_with_its_reason(client, booked) -> None:
    known(client, booked)
    check = client.post(url(booked, "/change"), {"action": "cancel_check", "reason": "Unwell"}).content.decode()
    assert "Cancel your appointment?" in check
    assert Appointment.objects.get(pk=booked.pk).status == Status.SCHEDULED
    client.post(url(booked, "/change"), {"action": "cancel", "reason": "Unwell"})
    cancelled = Appointment.objects.get(pk=booked.pk)
    assert (cancelled.status, cancelled.cancellation_reason) == (Status.CANCELLED, "Unwell")


def test_inside_the_notice_the_contact_details_instead(client, booked, clock) -> None:
    known(client, booked)
    clock.move_to(datetime(2027, 3, 23, 12, tzinfo=UTC))  # 22 hours before
    page = client.get(url(booked, "/change")).content.decode()
    assert "too close to your appointment to change its time" in page
    assert 'name="time"' not in page
    assert "+44 20 7123 4567" in page
    value = f"2027-03-25T14:00:00+00:00|{booked.agent_id}"
    assert client.post(url(booked, "/change"), {"action": "reschedule", "time": value}).status_code == 409
    assert Appointment.objects.get(pk=booked.pk).appointment_at == AT


def test_every_post_needs_the_csrf_token_and_other_roles_get_the_plain_404(booked) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.get(url(booked))
    value = f"2027-03-25T14:00:00+00:00|{booked.agent_id}"
    assert strict.post(url(booked, "/change"), {"action": "reschedule", "time": value}).status_code == 403
    agent = Participant.objects.get(appointment=booked, role=Role.AGENT)
    assert Client().get(f"/join/{agent.token}/change").status_code == 404


def test_in_welsh(client, booked) -> None:
    known(client, booked)
    page = client.get(url(booked, "/change"), {"lang": "cy"}).content.decode()
    assert '<html lang="cy">' in page
    assert "Newid yr amser" in page


def test_welsh_chosen_before_the_check_is_kept_as_the_claimants_when_it_passes(client, booked) -> None:
    client.get(url(booked, "/change"), {"lang": "cy"})
    booked.claimant.refresh_from_db()
    assert booked.claimant.preferred_language is None  # before the check: this page only
    known(client, booked)
    booked.claimant.refresh_from_db()
    assert booked.claimant.preferred_language == "cy"
    assert '<html lang="cy">' in Client().get(url(booked, "/change")).content.decode()  # any browser, now


def test_a_time_inside_the_notice_is_warned_of_before_it_is_confirmed(client, booked, clock) -> None:
    """Times are offered from the notice to book (an hour) while the notice to change or cancel is a day: a time
    inside it is said to be one the claimant cannot change or cancel themselves, before they confirm it."""
    clock.move_to(datetime(2027, 3, 22, 8, tzinfo=UTC))  # Monday 08:00; the appointment is on Wednesday at 10:00
    known(client, booked)
    page = client.get(url(booked, "/change")).content.decode()
    soon_value = f"2027-03-22T14:00:00+00:00|{booked.agent_id}"  # today, 6 hours away: offered
    later_value = f"2027-03-23T14:00:00+00:00|{booked.agent_id}"  # tomorrow, 30 hours away
    assert f'value="{soon_value}"' in page
    confirm = client.post(url(booked, "/change"), {"action": "choose", "time": soon_value}).content.decode()
    warning = (
        "You will not be able to change or cancel this time yourself: it is less than 24 hours away. To change it "
        f"later, contact {booked.department.name}."
    )
    assert warning in confirm
    assert 'id="confirm-time" aria-describedby="held-to"' in confirm
    assert Appointment.objects.get(pk=booked.pk).appointment_at == AT  # a warning, nothing moved
    outside = client.post(url(booked, "/change"), {"action": "choose", "time": later_value}).content.decode()
    assert "Confirm your new time" in outside
    assert 'id="held-to"' not in outside
    # The claimant may still confirm it, having been told.
    done = client.post(url(booked, "/change"), {"action": "reschedule", "time": soon_value})
    assert "Your appointment has moved" in done.content.decode()


def test_the_warning_names_the_notice_the_time_is_inside(client, booked, clock) -> None:
    """Only the notice to reschedule (the department lets a cancel through until 2 hours before): the claimant is
    told they cannot change it, and in Welsh too."""
    BookingRules.objects.filter(department=booked.department).update(notice_to_cancel_minutes=120)
    clock.move_to(datetime(2027, 3, 22, 8, tzinfo=UTC))
    known(client, booked)
    value = f"2027-03-22T14:00:00+00:00|{booked.agent_id}"
    confirm = client.post(url(booked, "/change"), {"action": "choose", "time": value}).content.decode()
    assert "You will not be able to change this time yourself: it is less than 24 hours away." in confirm
    assert "change or cancel" not in confirm
    client.get(url(booked, "/change"), {"lang": "cy"})
    welsh = client.post(url(booked, "/change"), {"action": "choose", "time": value}).content.decode()
    assert '<html lang="cy">' in welsh
    assert "Ni fyddwch yn gallu newid yr amser hwn eich hun: mae'n llai na 24 awr i ffwrdd." in html.unescape(welsh)


def test_each_result_is_left_to_the_pages_script_to_say_after_load(client, booked) -> None:
    """No live region holds a result when the page loads (a screen reader would not say it): the page names what the
    script (static/meetings/join.js) focuses and says once it has loaded."""
    known(client, booked)
    value = f"2027-03-25T14:00:00+00:00|{booked.agent_id}"
    done = client.post(url(booked, "/change"), {"action": "reschedule", "time": value}).content.decode()
    assert 'data-step-focus="" data-step-say="moved-result"' in done
    assert 'id="moved-result"' in done
    assert 'role="status"' not in done
    assert 'role="alert"' not in done
    assert "/static/meetings/join" in done
    wrong = client.post(url(booked, "/change"), {"action": "cancel_check", "reason": "x" * 501}).content.decode()
    assert 'data-step-focus="reason" data-step-say="reason-error"' in wrong
    assert 'role="alert"' not in wrong


UNLOCK = {
    "en": "Please contact Claims to unlock it: how is below.",
    "cy": "Cysylltwch â Tîm Hawliadau i'w datgloi: mae'r manylion isod.",
}


@pytest.mark.parametrize(("language", "words"), list(UNLOCK.items()))
def test_locked_by_wrong_dates_it_names_whom_to_contact_and_how(booked, language: str, words: str) -> None:
    """A walk locked the change page by wrong dates of birth and was told to "contact the organisation", where the
    join page names the department and shows how: the change page now says what the join page says, above the
    department's contact details."""
    Department.objects.filter(pk=booked.department_id).update(name_cy="Tîm Hawliadau")
    client = Client()
    client.get(url(booked, "/change"), {"lang": language})
    wrong = {"action": "identity", "day": "1", "month": "1", "year": "2001"}
    answers = [client.post(url(booked, "/change"), wrong) for _ in range(10)]
    locked = next(answer for answer in answers if answer.status_code == 423)
    page = html.unescape(locked.content.decode())
    assert words in page
    assert page.index(words) < page.index('id="contact-heading"')
    assert "+44 20 7123 4567" in page
