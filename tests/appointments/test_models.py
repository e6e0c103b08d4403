"""The status table and the invariants the database itself enforces."""

from itertools import product

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import FINAL_STATUSES, TRANSITIONS, Appointment, Status, can_transition
from tests.factories import make_appointment

ALLOWED = {
    ("scheduled", "waiting"),
    ("scheduled", "in_progress"),
    ("scheduled", "cancelled"),
    ("scheduled", "no_show"),
    ("waiting", "scheduled"),
    ("waiting", "in_progress"),
    ("waiting", "cancelled"),
    ("waiting", "no_show"),
    ("in_progress", "completed"),
}


@pytest.mark.parametrize(("current", "target"), list(product(Status.values, Status.values)))
def test_transition_table_is_exactly_the_contracts(current: str, target: str) -> None:
    assert can_transition(current, target) is ((current, target) in ALLOWED)


def test_final_statuses_are_completed_cancelled_and_no_show() -> None:
    assert set(FINAL_STATUSES) == {"completed", "cancelled", "no_show"}
    assert set(TRANSITIONS) == set(Status.values)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("duration_in_minutes", 4),
        ("duration_in_minutes", 481),
        ("status", "archived"),
        ("features_bandwidth", "extreme"),
        ("interpreter_language", "French"),  # without is_interpreter_needed
        ("use_custom_post_call_redirect", True),  # without a URL
        ("cancelled_at", "now"),  # while scheduled
        ("session_started_at", "now"),  # while scheduled
    ],
)
def test_database_refuses_rows_that_break_the_rules(department, column: str, value: object) -> None:
    appointment = make_appointment(department)
    if value == "now":
        value = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(**{column: value})
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED


def test_references_are_unique_within_a_department(department) -> None:
    first = make_appointment(department, reference="REF-1")
    second = make_appointment(department)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=second.pk).update(reference=first.reference)


def test_url_is_on_the_public_base_and_not_derived_from_the_reference(department, settings) -> None:
    appointment = make_appointment(department)
    assert appointment.url.startswith(settings.PUBLIC_BASE_URL + "/join/")
    assert appointment.reference not in appointment.url
    assert len(appointment.public_token) >= 32
