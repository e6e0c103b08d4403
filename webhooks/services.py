"""Webhook endpoints and their deliveries: the rules shared by the API, the back office and the worker. One attempt,
its retries and the order of deliveries are in webhooks.tasks, with the task that runs them.

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
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from appointments.models import Department
from config.actors import Actor, staff_of
from config.net import count_hit
from config.queue import live_arguments
from events.models import Event, EventType
from webhooks import http
from webhooks.models import SUBSCRIBABLE, Delivery, DeliveryStatus, Endpoint, new_secret
from webhooks.tasks import (
    deliveries_heads,
    deliveries_wake_after,
    delivery_enqueue,
    delivery_must_wait,
    delivery_wake,
    earlier_pending,
    webhook_deliver,
)

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


def endpoint_create(*, department: Department, data: Mapping[str, Any], actor: Actor) -> Endpoint:
    changes, errors = _plan(data)
    if "url" not in data:
        errors["url"] = ["The url field is required."]
    if not Department.objects.visible_to(actor).filter(pk=department.pk).exists():
        errors["department_id"] = ["The selected department id is invalid."]
    if errors:
        raise ValidationError(errors)
    # None: an operator's command (or anyone not signed in, who never gets here).
    return Endpoint.objects.create(department=department, created_by=staff_of(actor), **changes)


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


def endpoint_keep(*, endpoint: Endpoint, actor: Actor) -> Endpoint:
    """A manager keeps an endpoint whose creator was deactivated: they answer for it from now on."""
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.created_by = staff_of(actor)
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
        delivery_enqueue(delivery, None)
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
        delivery_enqueue(locked, None)
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
        if not list(
            Delivery.objects.select_for_update().filter(earlier_pending(delivery)).values_list("pk", flat=True)[:1]
        ):
            delivery_enqueue(delivery, None)
    deliveries_wake_after(event)
    return deliveries


# --- the worker's sweep (worker/sweep.py) ------------------------------------------------------------------------


SWEPT_PER_RUN = 500


def deliveries_requeue() -> int:
    """Enqueue again every pending delivery that has no task and is not waiting its turn (its task was lost, or
    failed); returns how many. Those waiting behind an earlier one get none: the earlier one wakes them."""

    live = {str(args[0]) for args in live_arguments(webhook_deliver) if args}
    enqueued = 0
    for delivery in deliveries_heads().select_related("event").order_by("created_at")[:SWEPT_PER_RUN]:
        if str(delivery.pk) in live or delivery_must_wait(delivery):
            continue
        due = [moment for moment in (delivery.next_attempt_at, delivery.held_until) if moment is not None]
        enqueued += delivery_wake(delivery, max(due, default=None))
    return enqueued


def deliveries_stuck(cutoff: datetime) -> int:
    """Pending deliveries that may go (not waiting behind an earlier one, not held by an attempt in flight) and
    have been due since before `cutoff`."""
    due = Coalesce("next_attempt_at", "created_at")
    free = Q(held_until__isnull=True) | Q(held_until__lt=timezone.now())
    return int(deliveries_heads().annotate(due=due).filter(free, due__lt=cutoff).count())
