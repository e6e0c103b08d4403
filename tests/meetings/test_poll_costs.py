"""What the claimant's status poll no longer pays for (issue 26.5), and that it answers as before without it: its
heartbeat's commit does not wait for the disk, it runs no connection health check (a broken kept connection is
replaced and the poll answered, an outage is still a 503), and its CSP header is built once per policy."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment, Status
from config.outage import RETRY_AFTER_SECONDS
from config.writes import update_columns
from meetings.models import Participant
from tests.helpers import postgres_only, rewrite
from tests.meetings.test_public_pages import CSP, claimant, page_url, soon

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
WITHOUT_FLUSH = "set_config('synchronous_commit', 'off', true)"


def waiting(appointment: Appointment) -> Participant:
    """The claimant in the waiting room, last seen long enough ago that their next poll is a heartbeat."""
    person = claimant(appointment)
    rewrite(
        Participant.objects.filter(pk=person.pk),
        joined_waiting_at=timezone.now(),
        last_seen_at=timezone.now() - timedelta(seconds=30),
    )
    rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.WAITING)
    return person


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def test_the_heartbeat_commits_without_waiting_for_the_disk_and_only_itself(client, department) -> None:
    appointment = soon(department)
    person = waiting(appointment)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url(appointment, "/status"))
    assert response.status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1
    assert WITHOUT_FLUSH in writes[0]
    seen = Participant.objects.get(pk=person.pk).last_seen_at
    assert seen is not None  # written, and visible to other sessions
    assert timezone.now() - seen < timedelta(seconds=5)
    assert synchronous_commit() == "on"  # the setting ended with the heartbeat's own transaction
    # Inside a caller's transaction the write is an ordinary one: the setting would reach the caller's writes.
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        update_columns(person, ["last_seen_at"], durable=False)
        assert synchronous_commit() == "on"
    assert [WITHOUT_FLUSH in q["sql"] for q in inside if q["sql"].startswith("UPDATE")] == [False]


def test_a_poll_runs_no_health_check_and_the_page_still_does(client, department, monkeypatch) -> None:
    appointment = soon(department)
    assert client.get(page_url(appointment, "/status")).status_code == 200  # the connection is kept
    checks: list[int] = []
    wrapper: Any = connections[DEFAULT_DB_ALIAS]  # the attributes read are not in Django's type stubs
    usable = wrapper.is_usable

    def counted() -> bool:
        checks.append(1)
        return bool(usable())

    monkeypatch.setattr(wrapper, "is_usable", counted)
    wrapper.health_check_done = False  # as at the start of a request (the test client skips that signal)
    assert client.get(page_url(appointment, "/status")).status_code == 200
    assert checks == []
    wrapper.health_check_done = False
    assert client.get(page_url(appointment)).status_code == 200
    assert checks == [1]


def test_a_broken_kept_connection_is_replaced_and_the_poll_answered(client, department) -> None:
    appointment = soon(department)
    first = client.get(page_url(appointment, "/status"))
    connection.connection.close()  # the server closed it while idle: Django still holds it
    again = client.get(page_url(appointment, "/status"))
    assert again.status_code == 200
    assert again.content == first.content


def test_an_outage_behind_a_broken_kept_connection_is_the_503(client, department, monkeypatch) -> None:
    appointment = soon(department)
    assert client.get(page_url(appointment, "/status")).status_code == 200
    connection.connection.close()

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "get_new_connection", refused)
    response = client.get(page_url(appointment, "/status"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    monkeypatch.undo()
    connection.close()
    assert client.get(page_url(appointment, "/status")).status_code == 200  # the database back, a new connection


def test_the_kept_policy_follows_the_settings(client, department, settings) -> None:
    appointment = soon(department)
    before = client.get(page_url(appointment, "/status"))[CSP]
    assert client.get(page_url(appointment, "/status"))[CSP] == before
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {
        **policy,
        "DIRECTIVES": {**policy["DIRECTIVES"], "img-src": ["'self'", "https://images.example"]},
    }
    after = client.get(page_url(appointment, "/status"))[CSP]
    assert "https://images.example" in after
    assert "https://images.example" not in before


def prepared() -> list[tuple[str, int]]:
    """This connection's statements prepared on the server, with how many times each ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return [(str(statement), int(runs)) for statement, runs in cursor.fetchall()]


def test_the_polls_read_is_prepared_once_per_connection_and_unordered(client, department) -> None:
    appointment = soon(department)
    waiting(appointment)
    for _ in range(3):
        assert client.get(page_url(appointment, "/status")).status_code == 200
    ((statement, runs),) = prepared()
    assert '"meetings_participant"."token" = $' in statement
    assert "ORDER BY" not in statement  # the token is unique: nothing to sort
    assert runs == 3
    # After a rollback psycopg forgets its statements (and has the server drop them): the next poll prepares again.
    with transaction.atomic():
        Participant.objects.exists()
        transaction.set_rollback(True)
    assert prepared() == []
    assert client.get(page_url(appointment, "/status")).status_code == 200
    assert [runs for _statement, runs in prepared()] == [1]


def test_with_db_prepare_off_nothing_is_prepared(client, department, monkeypatch) -> None:
    monkeypatch.delitem(connection.settings_dict["OPTIONS"], "prepare_threshold")
    appointment = soon(department)
    for _ in range(2):
        assert client.get(page_url(appointment, "/status")).status_code == 200
    assert prepared() == []
