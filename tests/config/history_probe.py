"""Tests that write a row around the one history writer on purpose, one per kind of database fixture. Not
collected by the suite (the name has no `test_` prefix): tests/config/test_history_check.py runs them in a pytest
of their own and asserts that the history check fails each of them (issue 19.3)."""

import pytest

from meetings.models import Participant, Role
from tests.factories import UserFactory, make_appointment


def _bypass(department) -> None:
    """What `participants_follow_agent` did: the agent's participant written with a bare `.update()`."""
    appointment = make_appointment(department)
    Participant.objects.filter(appointment=appointment, role=Role.AGENT).update(user=UserFactory.create())


def test_with_db(db, department) -> None:
    _bypass(department)


@pytest.mark.django_db(transaction=True)
def test_with_a_transactional_marker(department) -> None:
    _bypass(department)


def test_with_transactional_db(transactional_db, department) -> None:
    _bypass(department)


def test_with_live_server(live_server, department) -> None:
    _bypass(department)
