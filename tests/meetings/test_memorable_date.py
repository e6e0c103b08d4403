"""The date of birth as three fields, Day, Month and Year (issue 22.2, GOV.UK's memorable date): read and checked
by meetings/identity.py; a mistake in the format names the field to correct and never counts as a wrong try."""

from typing import Any

import pytest
from django.test import Client

from meetings.models import Participant, Role
from tests.meetings.test_public_pages import page_url, post, soon

pytestmark = pytest.mark.django_db


def tries(appointment: Any) -> int:
    """Wrong answers counted on the link (every browser's together)."""
    return Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).identity_failures


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day": "", "month": "", "year": ""}, "day"),
        ({"day": "17", "month": "", "year": "1990"}, "month"),
        ({"day": "17", "month": "5", "year": "90"}, "year"),
        ({"day": "31", "month": "2", "year": "1990"}, "day"),
        ({"day": "1", "month": "13", "year": "1990"}, "month"),
        ({"day": "seventeen", "month": "5", "year": "1990"}, "day"),
        ({"day": "1", "month": "1", "year": "2999"}, "year"),
        ({"date_of_birth": "17/05/1990"}, "date_of_birth"),
    ],
)
def test_a_mistake_in_the_format_names_the_field_and_costs_no_try(client: Client, department, body, field) -> None:
    appointment = soon(department)
    response = post(client, page_url(appointment, "/identity"), body)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert tries(appointment) == 0


def test_the_three_fields_pass_the_check_with_spaces_and_leading_zeros(client: Client, department) -> None:
    appointment = soon(department)
    response = post(client, page_url(appointment, "/identity"), {"day": " 17", "month": "05 ", "year": "1990"})
    assert response.status_code == 200
    assert "Hello Ada Lovelace" in client.get(page_url(appointment)).content.decode()


def test_a_wrong_date_in_the_right_format_counts(client: Client, department) -> None:
    appointment = soon(department)
    response = post(client, page_url(appointment, "/identity"), {"day": "18", "month": "5", "year": "1990"})
    assert response.status_code == 422
    assert response.json()["tries_left"] == 4
    assert tries(appointment) == 1


def test_the_form_is_three_labelled_fields_with_an_example_and_autocomplete(client: Client, department) -> None:
    html = client.get(page_url(soon(department))).content.decode()
    for name in ("day", "month", "year"):
        assert f'name="{name}"' in html
        assert f'autocomplete="bday-{name}"' in html
        assert f'<label for="dob-{name}">' in html
    assert 'inputmode="numeric"' in html
    assert "For example, 27 3 1985" in html
    assert 'type="date"' not in html
