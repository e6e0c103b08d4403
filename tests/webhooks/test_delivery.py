"""Delivery by the worker: signed as Standard Webhooks says (checked with its own library), at least once with
the same webhook-id on every attempt, retried on 5xx/408/429/timeouts and not on other 4xx, in order per
appointment, never to a private address in production, and an endpoint that fails for days is turned off and
its managers told."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from appointments.services import appointment_cancel, appointment_update
from events.models import Event
from tests.factories import make_appointment
from tests.helpers import Receiver, run_tasks, staff
from webhooks import http
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from webhooks.services import delivery_resend
from webhooks.tasks import RETRY_SCHEDULE

LATER = timedelta(days=3)  # past every retry of the schedule


@pytest.fixture(autouse=True)
def _local_receivers(settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def subscribe(department, receiver: Receiver, **fields) -> Endpoint:
    return Endpoint.objects.create(department=department, url=receiver.url, **fields)


def test_every_event_of_a_life_arrives_in_order_signed_and_verifiable(department, agent) -> None:
    with Receiver() as receiver:
        endpoint = subscribe(department, receiver)
        appointment = make_appointment(department)
        appointment_update(appointment=appointment, data={"duration_in_minutes": 30}, actor=agent.user)
        appointment_cancel(appointment=appointment, reason="Withdrawn", actor=agent.user)
        run_tasks()
    verifier = Webhook(endpoint.secret)
    for item in receiver.received:
        verifier.verify(item.body, item.headers)  # raises on a bad signature or an old timestamp
        assert item.headers["content-type"] == "application/json"
    assert [event["type"] for event in receiver.events()] == [
        "appointment.created",
        "appointment.updated",
        "appointment.rescheduled",
        "appointment.updated",
        "appointment.status_changed",
        "appointment.cancelled",
    ]
    ids = [item.headers["webhook-id"] for item in receiver.received]
    assert ids == [f"msg_{event.id.hex}" for event in Event.objects.filter(appointment=appointment)]
    last = receiver.events()[-1]
    assert last["data"]["appointment"]["status"] == "cancelled"
    assert set(last) == {"type", "timestamp", "data"}


def test_only_the_events_an_endpoint_asked_for_and_only_its_departments(department, other_department) -> None:
    with Receiver() as mine, Receiver() as theirs, Receiver() as off:
        subscribe(department, mine, event_types=["appointment.cancelled"])
        subscribe(other_department, theirs)
        subscribe(department, off, is_active=False)
        appointment = make_appointment(department)
        appointment_cancel(appointment=appointment, reason=None, actor=None)
        run_tasks()
    assert [event["type"] for event in mine.events()] == ["appointment.cancelled"]
    assert theirs.received == off.received == []


def test_a_500_is_retried_with_the_same_webhook_id_and_body(department) -> None:
    with Receiver(statuses=[500]) as receiver:
        subscribe(department, receiver)
        make_appointment(department)
        run_tasks()
        assert len(receiver.received) == 1
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
        # The retry waits its turn (5 s, give or take a fifth)...
        assert delivery.next_attempt_at is not None
        assert timedelta(seconds=3.9) < delivery.next_attempt_at - delivery.created_at < timedelta(seconds=6.1)
        run_tasks(until=timezone.now() + timedelta(seconds=7))
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert list(Attempt.objects.filter(delivery=delivery).order_by("at").values_list("status_code", flat=True)) == [
        500,
        200,
    ]


@pytest.mark.parametrize(("status", "retried"), [(400, False), (404, False), (410, False), (408, True), (429, True)])
def test_which_answers_are_retried(department, status: int, retried: bool) -> None:
    with Receiver(statuses=[status]) as receiver:
        subscribe(department, receiver)
        make_appointment(department)
        run_tasks(until=timezone.now() + LATER)
    assert len(receiver.received) == (2 if retried else 1)
    expected = DeliveryStatus.SUCCEEDED if retried else DeliveryStatus.FAILED
    assert Delivery.objects.get().status == expected


def test_it_gives_up_after_the_schedule_about_a_day(department) -> None:
    with Receiver(statuses=[503] * 20) as receiver:
        endpoint = subscribe(department, receiver)
        make_appointment(department)
        run_tasks(until=timezone.now() + LATER)
    assert len(receiver.received) == len(RETRY_SCHEDULE) + 1 == 8
    assert timedelta(hours=22) < timedelta(seconds=sum(RETRY_SCHEDULE)) < timedelta(hours=30)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 8)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    assert endpoint.is_active  # one bad day is not enough to turn it off


def test_a_timeout_is_an_attempt_that_is_retried(department, settings) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with Receiver(delay=1) as receiver:
        subscribe(department, receiver)
        make_appointment(department)
        run_tasks()
    attempt = Attempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "No answer within 0.3 s.")
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def test_a_later_event_waits_for_an_earlier_one_of_the_same_appointment(department, agent) -> None:
    with Receiver(statuses=[500]) as receiver:
        subscribe(department, receiver)
        appointment = make_appointment(department)
        run_tasks()  # its `created` failed once: a retry in 5 s
        other = make_appointment(department)
        appointment_update(appointment=appointment, data={"features_bandwidth": "low"}, actor=agent.user)
        run_tasks()
        # The other appointment's event went; this one's update waits behind its created.
        pending = Delivery.objects.filter(status=DeliveryStatus.PENDING).order_by("event__sequence")
        assert [d.event.type for d in pending] == ["appointment.created", "appointment.updated"]
        run_tasks(until=timezone.now() + LATER)
    seen = [(event["data"]["appointment"]["id"], event["type"]) for event in receiver.events()]
    assert seen == [
        (str(appointment.pk), "appointment.created"),
        (str(other.pk), "appointment.created"),
        (str(appointment.pk), "appointment.created"),
        (str(appointment.pk), "appointment.updated"),
    ]


def test_private_addresses_are_refused_in_production(department, settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with Receiver() as receiver:
        subscribe(department, receiver)
        make_appointment(department)
        run_tasks(until=timezone.now() + LATER)
    assert receiver.received == []
    attempt = Attempt.objects.get()
    assert attempt.error == "Refused: 127.0.0.1 is not a public address."
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


@pytest.mark.parametrize("host", ["10.0.0.8", "192.168.1.1", "169.254.169.254", "[::1]", "[fd00::1]", "localhost"])
def test_every_kind_of_private_address_is_refused(settings, host: str) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    outcome = http.post(f"https://{host}/in", b"{}", {})
    assert outcome.status_code is None
    assert outcome.error.startswith("Refused:")
    assert not outcome.retryable


def test_failing_for_days_disables_the_endpoint_and_tells_its_managers(
    department, settings, django_capture_on_commit_callbacks
) -> None:
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    for username, group in (("manager", "Department managers"), ("agent", "Agents")):
        member = staff(username, department, group=group)
        member.email = f"{username}@example.com"
        member.save()
    with Receiver(statuses=[500] * 20) as receiver:
        endpoint = subscribe(department, receiver)
        Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=5, minutes=1))
        make_appointment(department)
        with django_capture_on_commit_callbacks(execute=True):
            run_tasks()
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_reason == "Every delivery failed for 5 days."
    told = [message for message in mail.outbox if message.subject.startswith("Webhook endpoint disabled")]
    assert [message.to for message in told] == [["manager@example.com"]]
    assert receiver.url in told[0].subject
    # A disabled endpoint gets nothing more, and its pending delivery stops.
    run_tasks(until=timezone.now() + LATER)
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


def test_send_again_delivers_the_same_event_with_the_same_id(department) -> None:
    with Receiver(statuses=[400]) as receiver:
        subscribe(department, receiver)
        make_appointment(department)
        run_tasks()
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.FAILED
        delivery_resend(delivery=delivery)
        run_tasks()
    assert [item.headers["webhook-id"] for item in receiver.received] == [f"msg_{delivery.event.id.hex}"] * 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert Attempt.objects.filter(delivery=delivery).count() == 2  # every attempt is kept
