"""Sending a batch's POSTs: each signed as the Standard Webhooks specification says, at most WEBHOOK_CONCURRENCY at a
time from threads kept by the worker process, over connections kept per endpoint (webhooks.http.Pool). Nothing
here touches the database: the attempts are claimed and recorded by webhooks.tasks."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.utils import timezone
from standardwebhooks import Webhook

from webhooks import http
from webhooks.models import Delivery

USER_AGENT = "appointments-webhooks/1"


def send_all(deliveries: list[Delivery]) -> list[http.Outcome]:
    """One POST of each, their outcomes in the same order (one alone is sent from the calling thread)."""
    if len(deliveries) <= 1:
        return [_send(delivery) for delivery in deliveries]
    return list(_senders().map(_send, deliveries))


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
    return http.post(endpoint.url, body.encode(), headers, _connections())


# Per worker process: the senders' threads and the connections they keep, sized by WEBHOOK_CONCURRENCY.
_SENDERS: dict[int, ThreadPoolExecutor] = {}
_POOLS: dict[int, http.Pool] = {}
_LOCK = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    size = max(1, settings.WEBHOOK_CONCURRENCY)
    with _LOCK:
        if size not in _SENDERS:
            _SENDERS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhook sender")
        return _SENDERS[size]


def _connections() -> http.Pool:
    size = max(1, settings.WEBHOOK_CONCURRENCY)
    with _LOCK:
        if size not in _POOLS:
            _POOLS[size] = http.Pool(size)
        return _POOLS[size]
