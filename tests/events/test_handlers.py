"""The outbox dispatches each event to the handlers its consumers registered from their AppConfig.ready(): it
imports none of them, an event no handler wants is dispatched all the same (marked, nothing else written), and an
app's ready() run twice registers its handler once."""

import pytest
from django.apps import apps
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config.registry import Registry
from events import handlers
from events.models import Event, EventType
from events.tasks import event_dispatch_one
from notifications.models import Notification
from tests.factories import make_appointment
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

CONSUMERS = ["appointments", "meetings", "webhooks", "notifications"]


def registered() -> list[tuple[str, frozenset[EventType] | None]]:
    return [(handler.name, handler.types) for handler in handlers.handlers]


def test_each_consumer_registers_its_handler_from_ready() -> None:
    assert [name.split(":")[0] for name, _types in registered()] == CONSUMERS
    wanted = {handler.name.split(":")[0] for handler in handlers.handlers_for(EventType.APPOINTMENT_CREATED)}
    assert wanted == {"appointments", "webhooks", "notifications"}
    assert [h.name.split(":")[0] for h in handlers.handlers_for(EventType.PARTICIPANT_JOINED_WAITING_ROOM)] == [
        "meetings",
        "webhooks",
    ]


def test_ready_run_again_registers_each_handler_once() -> None:
    before = registered()
    for label in [*CONSUMERS, "events"]:
        apps.get_app_config(label).ready()
    assert registered() == before
    assert len(handlers.handlers_for(EventType.APPOINTMENT_CREATED)) == 3


def test_an_event_no_handler_wants_is_dispatched_and_nothing_else(department, monkeypatch) -> None:
    Endpoint.objects.create(department=department, url="https://receiver.example/hook", event_types=[])
    appointment = make_appointment(department)
    event, control = (
        Event.objects.create(
            type=EventType.APPOINTMENT_CREATED,
            appointment=appointment,
            department=department,
            data='{"appointment": {}}',
            created_at=timezone.now(),
        )
        for _ in range(2)
    )
    tasks_before = DBTaskResult.objects.count()
    monkeypatch.setattr(handlers, "handlers", Registry())

    assert event_dispatch_one(event.pk) is True

    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert not Delivery.objects.filter(event=event).exists()
    assert not Notification.objects.filter(appointment=appointment).exists()
    assert DBTaskResult.objects.count() == tasks_before
    assert event_dispatch_one(event.pk) is False  # once

    monkeypatch.undo()  # the same event with its handlers: the endpoint (every type) gets its delivery
    assert event_dispatch_one(control.pk) is True
    assert Delivery.objects.filter(event=control).count() == 1
