"""The delivery task and what an attempt does, for a batch of deliveries at once: the claim under their locks, the
POSTs (webhooks.sending: signed, at most WEBHOOK_CONCURRENCY at a time, over kept connections), their record; the
retries; the order per appointment (a delivery behind an earlier one waits without a task and is woken when that
one is done); an endpoint disabled after days of failures. The attempt lives with its task because it enqueues
that task (the next delivery, the retry); webhooks.services fans events out and enqueues through it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from appointments.models import Appointment
from config.queue import backoff, enqueue_at, enqueue_each_unless_due, enqueue_unless_due, task
from config.writes import update_rows
from events.models import Event
from ledger.services import Happening, lock_appointment, record, record_each
from webhooks import http
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from webhooks.sending import send_all

# Seconds from one attempt to the next (the Standard Webhooks reference schedule): about 28 hours in all.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)


def delivery_enqueue(delivery: Delivery, when: datetime | None) -> None:
    enqueue_at(webhook_deliver, when, str(delivery.pk))


def delivery_wake(delivery: Delivery, when: datetime | None = None) -> bool:
    """Make sure a task of this delivery runs by `when` (now when None), enqueuing one only if none will."""
    return enqueue_unless_due(webhook_deliver, when, str(delivery.pk))


def _hold(claimed: int = 1) -> timedelta:
    """How long an attempt in flight keeps others off its delivery: longer than its batch can take (a connection,
    the request and the answer, each within the timeout, for each round of WEBHOOK_CONCURRENCY attempts), so two
    attempts of one delivery do not overlap; a killed worker's hold simply expires."""
    rounds = math.ceil(claimed / max(1, settings.WEBHOOK_CONCURRENCY))
    return timedelta(seconds=rounds * 3 * settings.WEBHOOK_TIMEOUT_SECONDS + 5)


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


def _following(done: list[Delivery]) -> list[Delivery]:
    """For each of these deliveries, done now, the first pending delivery of a later event of its appointment to
    its endpoint (which waited without a task): `_wake_next` of many, in one query."""
    behind: dict[tuple[Any, Any], int] = {
        (delivery.endpoint_id, delivery.event.appointment_id): delivery.event.sequence
        for delivery in done
        if delivery.event.appointment_id is not None
    }
    if not behind:
        return []
    later = Delivery.objects.filter(
        status=DeliveryStatus.PENDING,
        endpoint_id__in={endpoint_id for endpoint_id, _ in behind},
        event__appointment_id__in={appointment_id for _, appointment_id in behind},
        event__sequence__gt=min(behind.values()),
    ).select_related("event")
    first: dict[tuple[Any, Any], Delivery] = {}
    for delivery in later.order_by("event__sequence"):
        key = (delivery.endpoint_id, delivery.event.appointment_id)
        if key in behind and delivery.event.sequence > behind[key]:
            first.setdefault(key, delivery)
    return list(first.values())


def lock_appointments(ids: set[Any]) -> None:
    """`lock_appointment` of several, in one statement, in the order of their ids (as every batch takes them)."""
    if ids:
        list(Appointment.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


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
    return deliveries_attempt([delivery_id])[0]


@dataclass
class _Going:
    """A delivery claimed for an attempt: when, its retry if this one fails, and what the receiver answered."""

    delivery: Delivery
    at: datetime
    retry_at: datetime | None
    outcome: http.Outcome | None = None


def deliveries_attempt(delivery_ids: list[str]) -> list[str]:
    """One attempt of each of these deliveries (tasks the worker took together): claimed in one transaction under
    their locks, sent at most WEBHOOK_CONCURRENCY at a time over connections kept per endpoint, recorded in one
    transaction; returns what happened to each, in the order given. Two deliveries of one appointment to one
    endpoint are never in flight together: the later one waits (`_blocked`), as it always did."""
    results, going = _claim(delivery_ids)
    for item, outcome in zip(going, send_all([item.delivery for item in going]), strict=True):
        item.outcome = outcome
    if going:
        _record(going)
    for item in going:
        assert item.outcome is not None
        results[str(item.delivery.pk)] = f"{item.outcome.status_code or item.outcome.error}"
    return [results[str(pk)] for pk in delivery_ids]


def _claim(delivery_ids: list[str]) -> tuple[dict[str, str], list[_Going]]:
    now = timezone.now()
    results = {str(pk): "nothing to do" for pk in delivery_ids}
    candidates: list[Delivery] = []
    going: list[_Going] = []
    with transaction.atomic():
        rows = Delivery.objects.select_for_update(of=("self",)).select_related("endpoint", "event")
        for delivery in rows.filter(pk__in=results).order_by("pk"):
            key = str(delivery.pk)
            if delivery.status != DeliveryStatus.PENDING:
                continue
            if delivery.held_until is not None and delivery.held_until > now:
                delivery_wake(delivery, delivery.held_until)
                results[key] = "held by another attempt"
            elif not delivery.endpoint.is_active:
                _give_up(delivery, "endpoint disabled")
                results[key] = "endpoint disabled"
            elif delivery.attempts > len(RETRY_SCHEDULE):
                # Its last attempt never came back (the worker died during it): given up, as an answer would have been.
                _give_up(delivery, "gave up")
                results[key] = "gave up"
            else:
                candidates.append(delivery)
        blocked = _blocked(candidates)
        hold = now + _hold(len(candidates) - len(blocked))
        for delivery in candidates:
            if delivery.pk in blocked:
                # No task meanwhile: the earlier delivery wakes this one when it is done.
                results[str(delivery.pk)] = "waiting for an earlier event"
                continue
            # Should this worker die during the request, this task is left RUNNING and runs again when its lease
            # has expired (worker/sweep.py); it then finds the delivery held, and tries again when the hold ends.
            retry_at = None
            if delivery.attempts < len(RETRY_SCHEDULE):
                retry_at = now + backoff(RETRY_SCHEDULE[delivery.attempts])
            delivery.attempts += 1
            delivery.held_until = hold
            delivery.next_attempt_at = retry_at
            going.append(_Going(delivery, now, retry_at))
        update_rows([item.delivery for item in going], ["attempts", "held_until", "next_attempt_at"])
    return results, going


def _blocked(deliveries: list[Delivery]) -> set[Any]:
    """Those of these deliveries that must wait (`delivery_must_wait`), in one query."""
    ids = [delivery.pk for delivery in deliveries if delivery.event.appointment_id is not None]
    if not ids:
        return set()
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        status=DeliveryStatus.PENDING,
        event__appointment_id=OuterRef("event__appointment_id"),
        event__sequence__lt=OuterRef("event__sequence"),
    )
    undispatched = Event.objects.filter(
        appointment_id=OuterRef("event__appointment_id"),
        sequence__lt=OuterRef("event__sequence"),
        dispatched_at__isnull=True,
    )
    waiting = Delivery.objects.filter(pk__in=ids).filter(Exists(earlier) | Exists(undispatched))
    return set(waiting.values_list("pk", flat=True))


def _give_up(delivery: Delivery, error: str) -> None:
    _finish(delivery, DeliveryStatus.FAILED)
    _ledger(delivery, False, error=error, final=True)
    _wake_next(delivery)


def deliveries_heads() -> Any:
    """Pending deliveries with no pending delivery of an earlier event of their appointment to their endpoint."""
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        status=DeliveryStatus.PENDING,
        event__appointment_id=OuterRef("event__appointment_id"),
        event__sequence__lt=OuterRef("event__sequence"),
    )
    return Delivery.objects.filter(status=DeliveryStatus.PENDING).exclude(Exists(earlier))


def _record(going: list[_Going]) -> None:
    """The attempts' records, each delivery's new state, their ledger entries and what comes next (the following
    delivery woken, a retry enqueued, the endpoint's failing days), in one transaction; locks taken in the order
    one attempt takes them (deliveries, endpoints, appointments), each kind by id."""
    with transaction.atomic():
        Attempt.objects.bulk_create(
            [
                Attempt(
                    delivery=item.delivery,
                    at=item.at,
                    duration_ms=item.outcome.duration_ms,
                    status_code=item.outcome.status_code,
                    error=item.outcome.error,
                    response_body=item.outcome.response_body,
                )
                for item in going
                if item.outcome is not None
            ]
        )
        locked = Delivery.objects.select_for_update().filter(pk__in=[item.delivery.pk for item in going])
        list(locked.order_by("pk").values_list("pk"))
        endpoints = Endpoint.objects.select_for_update().filter(pk__in={item.delivery.endpoint_id for item in going})
        endpoint_of = {endpoint.pk: endpoint for endpoint in endpoints.order_by("pk")}
        lock_appointments({item.delivery.event.appointment_id for item in going} - {None})
        entries: dict[Any, list[Happening]] = {}
        done: list[Delivery] = []
        succeeded: set[Any] = set()
        failed: dict[Any, datetime] = {}
        for item in going:
            delivery, outcome = item.delivery, item.outcome
            assert outcome is not None
            final = outcome.succeeded or not outcome.retryable or item.retry_at is None
            details = {"status_code": outcome.status_code, "error": outcome.error, "final": final}
            if delivery.event.appointment_id is not None:
                entries.setdefault(delivery.event.appointment_id, []).append(
                    _entry(delivery, outcome.succeeded, **details)
                )
            if final:
                _finished(delivery, DeliveryStatus.SUCCEEDED if outcome.succeeded else DeliveryStatus.FAILED)
                done.append(delivery)
            else:
                delivery.held_until = None
            if outcome.succeeded:
                succeeded.add(delivery.endpoint_id)
            else:
                failed.setdefault(delivery.endpoint_id, item.at)
        record_each(entries, actor=None)
        update_rows([item.delivery for item in going], ["status", "held_until", "next_attempt_at", "finished_at"])
        finished = {delivery.pk for delivery in done}
        wake = {str(item.delivery.pk): item.retry_at for item in going if item.delivery.pk not in finished}
        wake |= {str(following.pk): following.next_attempt_at for following in _following(done)}
        enqueue_each_unless_due(webhook_deliver, wake)
        for endpoint_id, endpoint in endpoint_of.items():
            _failing(endpoint, endpoint_id in succeeded, failed.get(endpoint_id))


def _disable_after() -> timedelta:
    return timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)


def _failing(endpoint: Endpoint, answered: bool, failed_at: datetime | None) -> None:
    """An endpoint's failing days: a success in the batch ends them; otherwise a failure starts them, or turns the
    endpoint off once they have lasted WEBHOOK_DISABLE_AFTER_DAYS."""
    if answered:
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        return
    if failed_at is None:
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = failed_at
        endpoint.save(update_fields=["failing_since"])
    elif endpoint.is_active and failed_at - endpoint.failing_since >= _disable_after():
        _disable(endpoint)


def _entry(delivery: Delivery, delivered: bool, **details: Any) -> Happening:
    """The appointment's ledger entry of an attempt (`webhook.delivered`, or `webhook.failed` with its status code
    or error, the service's words, and whether it was the last)."""
    data = {"endpoint_id": delivery.endpoint_id, "event_id": delivery.event.id, "event_type": delivery.event.type}
    data |= {"attempt": delivery.attempts, **details}
    return Happening("webhook.delivered" if delivered else "webhook.failed", data)


def _ledger(delivery: Delivery, delivered: bool, **details: Any) -> None:
    """An attempt's ledger entry (`_entry`), under the appointment's lock."""
    appointment_id = delivery.event.appointment_id
    if appointment_id is None:  # a ping to an endpoint (webhook.test) is no appointment's
        return
    lock_appointment(appointment_id)
    record(appointment_id, [_entry(delivery, delivered, **details)], actor=None)


def _finish(delivery: Delivery, status: str) -> None:
    _finished(delivery, status)
    delivery.save(update_fields=["status", "held_until", "next_attempt_at", "finished_at"])


def _finished(delivery: Delivery, status: str) -> None:
    delivery.status = status
    delivery.held_until = None
    delivery.next_attempt_at = None
    delivery.finished_at = timezone.now()


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


def webhook_deliver_many(arguments: list[list[Any]]) -> list[str]:
    """Tasks of `webhook_deliver` the worker took together (worker.runner.register_batched): one attempt each."""
    return deliveries_attempt([str(args[0]) for args in arguments])
