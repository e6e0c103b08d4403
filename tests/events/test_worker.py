"""The real thing: the API under gunicorn, the task worker as its own process (`manage.py db_worker`) and a
webhook receiver on 127.0.0.1 that verifies every signature with the `standardwebhooks` library."""

import http.client
import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from tests.helpers import Receiver, shared_database_only, wait_for
from tests.support import database_env, db_worker, gunicorn, persona
from webhooks.models import Endpoint

# The worker is another process: it must share the test's database, which SQLite's in-memory one cannot.
pytestmark = [shared_database_only, pytest.mark.django_db(transaction=True)]
WORKER_ENV = {"WEBHOOK_ALLOW_HTTP_LOOPBACK": "1", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1"}


def call(port: int, method: str, path: str, token: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read() or b"null")
    conn.close()
    assert response.status in (200, 201), data
    return data["data"]


def verified(receiver: Receiver, secret: str) -> list[tuple[str, str]]:
    """(webhook-id, type) of every request received, each signature checked."""
    verifier = Webhook(secret)
    return [
        (item.headers["webhook-id"], verifier.verify(item.body, item.headers)["type"]) for item in receiver.received
    ]


def test_an_appointments_life_arrives_in_order_and_a_500_gets_the_same_id_again(department) -> None:
    agent = persona("worker-agent", department)
    env = database_env() | WORKER_ENV | {"ALLOWED_HOSTS": "127.0.0.1", "API_RATE_LIMIT": "1000/min"}
    with Receiver(statuses=[500]) as receiver, gunicorn(env) as port, db_worker(env):
        endpoint = Endpoint.objects.create(department=department, url=receiver.url)
        soon = timezone.now() + timedelta(minutes=10)  # the join window is open: the session may start (17.5)
        body = {
            "appointment_at": soon.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_in_minutes": 30,
            "claimant": {"name": "Ada Lovelace", "data": [{"name": "Case number", "value": "C-1"}]},
        }
        appointment = call(port, "POST", "/api/v1/appointments", agent.token, body)
        path = f"/api/v1/appointments/{appointment['id']}"
        call(port, "PATCH", path, agent.token, {"duration_in_minutes": 45})
        call(port, "PATCH", path, agent.token, {"status": "in_progress"})
        call(port, "PATCH", path, agent.token, {"status": "completed"})
        wait_for(lambda: len(receiver.received) == 10, 30, "ten requests (nine events, one of them twice)")
    received = verified(receiver, endpoint.secret)
    # The first answer was a 500: the same event came again (same id), and everything after it waited its turn.
    assert received[0] == received[1]
    assert [event_type for _id, event_type in received[1:]] == [
        "appointment.created",
        "appointment.updated",
        "appointment.rescheduled",
        "appointment.updated",
        "appointment.status_changed",
        "meeting.started",
        "appointment.updated",
        "appointment.status_changed",
        "meeting.ended",
    ]
    assert len({webhook_id for webhook_id, _type in received}) == 9
    assert receiver.received[0].body == receiver.received[1].body


def test_changes_made_while_the_worker_is_down_all_arrive_once_it_is_up(department, appointment) -> None:
    agent = persona("worker-agent", department)
    env = database_env() | WORKER_ENV | {"ALLOWED_HOSTS": "127.0.0.1", "API_RATE_LIMIT": "1000/min"}
    with Receiver() as receiver:
        endpoint = Endpoint.objects.create(department=department, url=receiver.url, event_types=["appointment.updated"])
        with gunicorn(env) as port:
            path = f"/api/v1/appointments/{appointment.pk}"
            for change in range(100):
                call(port, "PATCH", path, agent.token, {"duration_in_minutes": 30 + change % 2})
        assert receiver.received == []
        with db_worker(env):
            wait_for(lambda: len(receiver.received) >= 100, 120, "100 deliveries")
        received = verified(receiver, endpoint.secret)
    assert len(received) == 100
    assert len({webhook_id for webhook_id, _type in received}) == 100  # none twice
    durations = [json.loads(item.body)["data"]["appointment"]["duration_in_minutes"] for item in receiver.received]
    assert durations == [30 + change % 2 for change in range(100)]  # in the order of the changes
