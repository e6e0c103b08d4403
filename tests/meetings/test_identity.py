"""The claimant's identity check on their page: the date of birth, the tries it allows, the lock and its answer,
under concurrency on PostgreSQL with real threads (inside one test transaction they would pass either way)."""

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from appointments.models import Appointment
from meetings.models import Participant, Role
from tests.factories import make_appointment
from tests.helpers import postgres_only, run_together

RIGHT = "1990-05-17"
WRONG = "2001-01-01"


def soon(department: Any) -> Appointment:
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    when = timezone.now() + timedelta(minutes=10)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant)


def guess(client: Client, appointment: Appointment, born: str) -> Any:
    url = f"/join/{appointment.public_token}/identity"
    return client.post(url, json.dumps({"date_of_birth": born}), content_type="application/json")


def claimant(appointment: Appointment) -> Participant:
    return Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)


LOCKED_MESSAGE = "This link is locked after too many attempts. Please contact the organisation."


def test_a_right_date_of_birth_on_a_locked_link_gets_the_locked_answer(client, department, settings) -> None:
    settings.IDENTITY_MAX_FAILURES = 5
    appointment = soon(department)
    for _ in range(5):
        guess(client, appointment, WRONG)
    for born in (RIGHT, WRONG):
        response = guess(client, appointment, born)
        assert (response.status_code, response.json()["message"]) == (423, LOCKED_MESSAGE)
    person = claimant(appointment)
    assert (person.identity_failures, person.identity_checked_at) == (5, None)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_guesses_each_answer_from_the_state_their_lock_wrote(department, settings) -> None:
    settings.IDENTITY_MAX_FAILURES = 5
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    appointment = soon(department)

    def one_guess() -> tuple[int, Any]:
        response = guess(Client(), appointment, WRONG)
        return response.status_code, response.json().get("tries_left")

    answers = run_together([one_guess] * 30)
    assert sorted(answer for answer in answers if answer[0] == 422) == [(422, 1), (422, 2), (422, 3), (422, 4)]
    assert [answer for answer in answers if answer[0] != 422] == [(423, None)] * 26
    person = claimant(appointment)
    assert person.identity_failures == 5
    assert person.identity_locked_at is not None
