"""Webhook endpoints and their deliveries: the rules shared by the API, the back office and the worker.

Delivery is at least once, with the event's id as `webhook-id` on every attempt, signed as the Standard
Webhooks specification says. An attempt is made by the worker, never inside a request; a worker that dies
mid-attempt loses nothing: its task runs again once its lease has expired (worker/). Deliveries of one appointment's
events to one endpoint go in the order of the events: a later one waits, without a task, while an earlier one is
pending, and the earlier one wakes it when it is done (the worker's sweep wakes any that were missed).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from standardwebhooks import Webhook

from appointments.models import Department
from config.net import count_hit
from config.queue import backoff, enqueue_at, enqueue_unless_due, live_arguments
from events.models import Event, EventType
from webhooks import http
from webhooks.models import SUBSCRIBABLE, Attempt, Delivery, DeliveryStatus, Endpoint, new_secret

# Seconds from one attempt to the next (the Standard Webhooks reference schedule): about 28 hours in all.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
USER_AGENT = "appointments-webhooks/1"
Errors = dict[str, list[str]]
NOT_PUBLIC = "The url is not a public address."


# --- endpoints ---------------------------------------------------------------------------------------------------


def _url_errors(url: Any) -> list[str]:
    if not isinstance(url, str) or not url.strip():
        return ["The url field is required."]
    if len(url) > 2000:
        return ["The url may not be greater than 2000 characters."]
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return ["The url must be a valid URL."]
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        return ["The url must be a valid https URL without credentials."]
    if parts.scheme == "http" and not (settings.WEBHOOK_ALLOW_HTTP_LOOPBACK and _is_loopback(parts.hostname)):
        return ["The url must use https (http only on a loopback address, and only with DEBUG)."]
    # The rule deliveries follow, checked when the URL is given too (delivery checks again: DNS answers change).
    # One message whether the host is private, reserved or does not resolve: the answer must not tell an API user
    # what an internal name resolves to, or whether it exists.
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and http.public_address(parts.hostname, port)[0] is None:
        return [NOT_PUBLIC]
    return []


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _event_types_errors(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return ["The event types must be a list of event type names."]
    unknown = [item for item in value if item not in SUBSCRIBABLE]
    if unknown:
        return [f"Unknown event type: {', '.join(sorted(set(unknown))[:3])}. Known: {', '.join(SUBSCRIBABLE)}."]
    return []


def _plan(data: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    changes: dict[str, Any] = {}
    errors: Errors = {}
    if "url" in data:
        if problems := _url_errors(data["url"]):
            errors["url"] = problems
        else:
            changes["url"] = data["url"].strip()
    if "event_types" in data:
        value = data["event_types"] if data["event_types"] is not None else []
        if problems := _event_types_errors(value):
            errors["event_types"] = problems
        else:
            changes["event_types"] = sorted(set(value), key=SUBSCRIBABLE.index)
    if "description" in data:
        value = data["description"] if data["description"] is not None else ""
        if not isinstance(value, str) or len(value) > 200:
            errors["description"] = ["The description must be a string of at most 200 characters."]
        else:
            changes["description"] = value
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = ["The is active field must be true or false."]
        else:
            changes["is_active"] = data["is_active"]
    return changes, errors


def endpoint_create(*, department: Department, data: Mapping[str, Any], actor: Any) -> Endpoint:
    changes, errors = _plan(data)
    if "url" not in data:
        errors["url"] = ["The url field is required."]
    if not Department.objects.visible_to(actor).filter(pk=department.pk).exists():
        errors["department_id"] = ["The selected department id is invalid."]
    if errors:
        raise ValidationError(errors)
    creator = actor if getattr(actor, "pk", None) is not None else None  # None: an operator's command
    return Endpoint.objects.create(department=department, created_by=creator, **changes)


SECRET_OVERLAP_DEFAULT = timedelta(hours=24)
SECRET_OVERLAP_MAX = timedelta(days=7)


def endpoint_rotate_secret(*, endpoint: Endpoint, overlap: timedelta = SECRET_OVERLAP_DEFAULT) -> Endpoint:
    """A new signing secret; the one it replaces goes on signing beside it for `overlap` (0: stops at once, for a
    secret that leaked). A second rotation within the overlap drops the oldest: at most two secrets sign."""
    if not timedelta(0) <= overlap <= SECRET_OVERLAP_MAX:
        raise ValidationError({"overlap_hours": [f"The overlap must be between 0 and {SECRET_OVERLAP_MAX.days * 24}."]})
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        keep = overlap > timedelta(0)
        locked.previous_secret = locked.secret if keep else ""
        locked.previous_secret_expires_at = timezone.now() + overlap if keep else None
        locked.secret = new_secret()
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return locked


def endpoint_keep(*, endpoint: Endpoint, actor: Any) -> Endpoint:
    """A manager keeps an endpoint whose creator was deactivated: they answer for it from now on."""
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.created_by = actor
        locked.save(update_fields=["created_by", "updated_at"])
    return locked


def endpoint_update(*, endpoint: Endpoint, data: Mapping[str, Any]) -> Endpoint:
    changes, errors = _plan(data)
    if errors:
        raise ValidationError(errors)
    if changes.get("is_active") and not endpoint.is_active:
        # Turned back on by a person: its failures so far are forgiven.
        changes |= {"failing_since": None, "disabled_reason": ""}
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes:
        endpoint.save(update_fields=[*changes, "updated_at"])
    return endpoint


class PingLimited(Exception):
    """Too many test pings for one endpoint this minute; `retry_after` seconds until the next minute."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many test events for this endpoint.")
        self.retry_after = retry_after


def endpoint_ping(*, endpoint: Endpoint) -> Delivery:
    """A `webhook.test` event for this endpoint alone, delivered by the worker like any other; at most
    WEBHOOK_TEST_PINGS_PER_MINUTE a minute per endpoint, whichever door asks (PingLimited past it)."""
    # Counted per fixed minute (the key names it), so a refusal says exactly when the next ping is allowed.
    clock = time.time()
    minute = int(clock // 60)
    if count_hit(f"webhook-test:{endpoint.pk}:{minute}", 61) > settings.WEBHOOK_TEST_PINGS_PER_MINUTE:
        raise PingLimited(retry_after=max(1, math.ceil((minute + 1) * 60 - clock)))
    with transaction.atomic():
        now = timezone.now()
        data = {"endpoint_id": str(endpoint.pk), "department_id": str(endpoint.department_id)}
        event = Event.objects.create(
            type=EventType.WEBHOOK_TEST,
            department_id=endpoint.department_id,
            data=JSONRenderer().render(data).decode(),
            created_at=now,
            dispatched_at=now,
        )
        delivery = Delivery.objects.create(endpoint=endpoint, event=event)
        _enqueue(delivery, None)
    return delivery


def delivery_resend(*, delivery: Delivery) -> Delivery:
    """ "Send again" from the back office: the same event, the same webhook-id, a new series of attempts."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = None
        locked.held_until = None
        locked.finished_at = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "held_until", "finished_at"])
        _enqueue(locked, None)
    return locked


# --- deliveries --------------------------------------------------------------------------------------------------


def deliveries_for_event(event: Event) -> list[Delivery]:
    """One delivery for each active endpoint of the event's department that wants it (in the event's
    dispatch transaction)."""
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(department_id=event.department_id, is_active=True)
        if endpoint.wants(event.type)
    ]
    deliveries = Delivery.objects.bulk_create(
        [Delivery(endpoint=endpoint, event=event) for endpoint in endpoints], ignore_conflicts=True
    )
    for delivery in deliveries:
        # One behind an earlier pending delivery gets no task: the earlier one wakes it when it is done. Locking
        # that one waits out an attempt finishing right now, whose wake would otherwise miss this delivery.
        delivery.event = event
        if not list(Delivery.objects.select_for_update().filter(_earlier(delivery)).values_list("pk", flat=True)[:1]):
            _enqueue(delivery, None)
    deliveries_wake_after(event)
    return deliveries


def _enqueue(delivery: Delivery, when: datetime | None) -> None:
    from webhooks.tasks import webhook_deliver  # the task module imports this one

    enqueue_at(webhook_deliver, when, str(delivery.pk))


def _wake(delivery: Delivery, when: datetime | None = None) -> bool:
    """Make sure a task of this delivery runs by `when` (now when None), enqueuing one only if none will."""
    from webhooks.tasks import webhook_deliver

    return enqueue_unless_due(webhook_deliver, when, str(delivery.pk))


def _hold() -> timedelta:
    """How long an attempt in flight keeps others off its delivery: longer than an attempt can take (a connection,
    the request and the answer, each within the timeout), so two attempts of one delivery do not overlap; a
    killed worker's hold simply expires."""
    return timedelta(seconds=3 * settings.WEBHOOK_TIMEOUT_SECONDS + 5)


def _earlier(delivery: Delivery) -> Q:
    """The pending deliveries of earlier events of the same appointment to the same endpoint."""
    return Q(
        endpoint_id=delivery.endpoint_id,
        status=DeliveryStatus.PENDING,
        event__appointment_id=delivery.event.appointment_id,
        event__sequence__lt=delivery.event.sequence,
    )


def _must_wait(delivery: Delivery) -> bool:
    """An earlier event of the same appointment is still on its way to this endpoint, or not yet fanned out."""
    event = delivery.event
    if event.appointment_id is None:
        return False
    earlier_events = Event.objects.filter(appointment_id=event.appointment_id, sequence__lt=event.sequence)
    if earlier_events.filter(dispatched_at__isnull=True).exists():
        return True
    return Delivery.objects.filter(_earlier(delivery)).exists()


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
        _wake(following, following.next_attempt_at)


def deliveries_wake_after(event: Event) -> None:
    """An event fanned out after later events of its appointment (its dispatch was delayed by a fault): their
    deliveries may have waited for it without a task; wake the first of each endpoint's."""
    if event.appointment_id is None:
        return
    later = Event.objects.filter(appointment_id=event.appointment_id, sequence__gt=event.sequence)
    if not later.filter(dispatched_at__isnull=False).exists():
        return
    for delivery in _heads().filter(event__appointment_id=event.appointment_id).select_related("event"):
        if not _must_wait(delivery):
            _wake(delivery, delivery.next_attempt_at)


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
            _wake(delivery, delivery.held_until)
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
        if _must_wait(delivery):
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


# --- the worker's sweep (worker/sweep.py) ------------------------------------------------------------------------


def _heads() -> Any:
    """Pending deliveries with no pending delivery of an earlier event of their appointment to their endpoint."""
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        status=DeliveryStatus.PENDING,
        event__appointment_id=OuterRef("event__appointment_id"),
        event__sequence__lt=OuterRef("event__sequence"),
    )
    return Delivery.objects.filter(status=DeliveryStatus.PENDING).exclude(Exists(earlier))


SWEPT_PER_RUN = 500


def deliveries_requeue() -> int:
    """Enqueue again every pending delivery that has no task and is not waiting its turn (its task was lost, or
    failed); returns how many. Those waiting behind an earlier one get none: the earlier one wakes them."""
    from webhooks.tasks import webhook_deliver

    live = {str(args[0]) for args in live_arguments(webhook_deliver) if args}
    enqueued = 0
    for delivery in _heads().select_related("event").order_by("created_at")[:SWEPT_PER_RUN]:
        if str(delivery.pk) in live or _must_wait(delivery):
            continue
        due = [moment for moment in (delivery.next_attempt_at, delivery.held_until) if moment is not None]
        enqueued += _wake(delivery, max(due, default=None))
    return enqueued


def deliveries_stuck(cutoff: datetime) -> int:
    """Pending deliveries that may go (not waiting behind an earlier one, not held by an attempt in flight) and
    have been due since before `cutoff`."""
    due = Coalesce("next_attempt_at", "created_at")
    free = Q(held_until__isnull=True) | Q(held_until__lt=timezone.now())
    return int(_heads().annotate(due=due).filter(free, due__lt=cutoff).count())


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
            _enqueue(locked, retry_at)
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
