"""The delivery task and what one attempt does: the POST, signed; its record; the retries; the order per
appointment (a delivery behind an earlier one waits without a task and is woken when that one is done); an
endpoint disabled after days of failures. The attempt lives with its task because it enqueues that task
(the next delivery, the retry); webhooks.services fans events out and enqueues through it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks import Webhook

from config.queue import backoff, enqueue_at, enqueue_unless_due, task
from events.models import Event
from webhooks import http
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint

# Seconds from one attempt to the next (the Standard Webhooks reference schedule): about 28 hours in all.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
USER_AGENT = "appointments-webhooks/1"


def delivery_enqueue(delivery: Delivery, when: datetime | None) -> None:
    enqueue_at(webhook_deliver, when, str(delivery.pk))


def delivery_wake(delivery: Delivery, when: datetime | None = None) -> bool:
    """Make sure a task of this delivery runs by `when` (now when None), enqueuing one only if none will."""
    return enqueue_unless_due(webhook_deliver, when, str(delivery.pk))


def _hold() -> timedelta:
    """How long an attempt in flight keeps others off its delivery: longer than an attempt can take (a connection,
    the request and the answer, each within the timeout), so two attempts of one delivery do not overlap; a
    killed worker's hold simply expires."""
    return timedelta(seconds=3 * settings.WEBHOOK_TIMEOUT_SECONDS + 5)


def earlier_pending(delivery: Delivery) -> Q:
    """The pending deliveries of earlier events of the same appointment to the same endpoint."""
    return Q(
        endpoint_id=delivery.endpoint_id,
        status=DeliveryStatus.PENDING,
        event__appointment_id=delivery.event.appointment_id,
        event__sequence__lt=delivery.event.sequence,
    )


def delivery_must_wait(delivery: Delivery) -> bool:
    """An earlier event of the same appointment is still on its way to this endpoint, or not yet fanned out."""
    event = delivery.event
    if event.appointment_id is None:
        return False
    earlier_events = Event.objects.filter(appointment_id=event.appointment_id, sequence__lt=event.sequence)
    if earlier_events.filter(dispatched_at__isnull=True).exists():
        return True
    return Delivery.objects.filter(earlier_pending(delivery)).exists()


def _wake_next(delivery: Delivery) -> None:
    """This delivery is done: the first pending delivery of a later event of its appointment to its endpoint,
    which waited without a task, may go now."""
    if delivery.event.appointment_id is None:
        return
    following = (
        Delivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            status=DeliveryStatus.PENDING,
            event__appointment_id=delivery.event.appointment_id,
            event__sequence__gt=delivery.event.sequence,
        )
        .select_related("event")
        .order_by("event__sequence")
        .first()
    )
    if following is not None:
        delivery_wake(following, following.next_attempt_at)


def deliveries_wake_after(event: Event) -> None:
    """An event fanned out after later events of its appointment (its dispatch was delayed by a fault): their
    deliveries may have waited for it without a task; wake the first of each endpoint's."""
    if event.appointment_id is None:
        return
    later = Event.objects.filter(appointment_id=event.appointment_id, sequence__gt=event.sequence)
    if not later.filter(dispatched_at__isnull=False).exists():
        return
    for delivery in deliveries_heads().filter(event__appointment_id=event.appointment_id).select_related("event"):
        if not delivery_must_wait(delivery):
            delivery_wake(delivery, delivery.next_attempt_at)


def delivery_attempt(delivery_id: str) -> str:
    """One attempt of a delivery (the worker's task); returns what happened, for the task's result."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "nothing to do"
        if delivery.held_until is not None and delivery.held_until > now:
            delivery_wake(delivery, delivery.held_until)
            return "held by another attempt"
        if not delivery.endpoint.is_active:
            _finish(delivery, DeliveryStatus.FAILED)
            _wake_next(delivery)
            return "endpoint disabled"
        if delivery.attempts > len(RETRY_SCHEDULE):
            # Its last attempt never came back (the worker died during it): given up, as an answer would have been.
            _finish(delivery, DeliveryStatus.FAILED)
            _wake_next(delivery)
            return "gave up"
        if delivery_must_wait(delivery):
            # No task meanwhile: the earlier delivery wakes this one when it is done.
            return "waiting for an earlier event"
        # Should this worker die during the request, this task is left RUNNING and runs again when its lease has
        # expired (worker/sweep.py); it then finds the delivery held, and tries again when the hold ends.
        retry_at = None
        if delivery.attempts < len(RETRY_SCHEDULE):
            retry_at = now + backoff(RETRY_SCHEDULE[delivery.attempts])
        delivery.attempts += 1
        delivery.held_until = now + _hold()
        delivery.next_attempt_at = retry_at
        delivery.save(update_fields=["attempts", "held_until", "next_attempt_at"])
    outcome = _send(delivery)
    _record(delivery, outcome, now, retry_at)
    return f"{outcome.status_code or outcome.error}"


def deliveries_heads() -> Any:
    """Pending deliveries with no pending delivery of an earlier event of their appointment to their endpoint."""
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        status=DeliveryStatus.PENDING,
        event__appointment_id=OuterRef("event__appointment_id"),
        event__sequence__lt=OuterRef("event__sequence"),
    )
    return Delivery.objects.filter(status=DeliveryStatus.PENDING).exclude(Exists(earlier))


def _send(delivery: Delivery) -> http.Outcome:
    event, endpoint = delivery.event, delivery.endpoint
    body = event.body
    msg_id = f"msg_{event.id.hex}"
    sent_at = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        # During a rotation's overlap both signatures, space-separated: a receiver verifies with either secret.
        "webhook-signature": " ".join(
            Webhook(secret).sign(msg_id, sent_at, body) for secret in endpoint.signing_secrets(sent_at)
        ),
    }
    return http.post(endpoint.url, body.encode(), headers)


def _record(delivery: Delivery, outcome: http.Outcome, at: datetime, retry_at: datetime | None) -> None:
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            at=at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body=outcome.response_body,
        )
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if outcome.succeeded:
            _finish(locked, DeliveryStatus.SUCCEEDED)
            _wake_next(delivery)
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
            return
        if not outcome.retryable or retry_at is None:
            _finish(locked, DeliveryStatus.FAILED)
            _wake_next(delivery)
        else:
            locked.held_until = None
            locked.save(update_fields=["held_until"])
            delivery_enqueue(locked, retry_at)
        if endpoint.failing_since is None:
            endpoint.failing_since = at
            endpoint.save(update_fields=["failing_since"])
        elif endpoint.is_active and at - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
            _disable(endpoint)


def _finish(delivery: Delivery, status: str) -> None:
    delivery.status = status
    delivery.held_until = None
    delivery.next_attempt_at = None
    delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "held_until", "next_attempt_at", "finished_at"])


def _disable(endpoint: Endpoint) -> None:
    """Every delivery has failed for days: stop, and tell the department's managers (after the commit)."""
    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    endpoint.is_active = False
    endpoint.disabled_reason = f"Every delivery failed for {days} days."
    endpoint.save(update_fields=["is_active", "disabled_reason", "updated_at"])
    managers = list(
        endpoint.department.members.filter(groups__name="Department managers", is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not managers:
        return
    subject = f"Webhook endpoint disabled: {endpoint.url}"
    message = (
        f"Deliveries to {endpoint.url} ({endpoint.department.name}) have failed for {days} days, so the endpoint "
        "was disabled. Its attempts are in the back office (Webhook endpoints); turn it on again when the "
        "receiver is fixed, and send again what it missed."
    )
    transaction.on_commit(lambda: send_mail(subject, message, None, managers, fail_silently=True))


@task(queue_name="webhooks")
def webhook_deliver(delivery_id: str) -> str:
    return delivery_attempt(delivery_id)
