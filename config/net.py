"""The client's address and a fixed-window rate limit, for the public pages (and anything else that needs them)."""

import ipaddress
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a shared cache that does not answer raises (Django's Redis backend lets redis-py's errors through).
CACHE_ERRORS = (RedisError, OSError)


def client_address(request: HttpRequest) -> str:
    """The client's address: behind PROXY_COUNT reverse proxies, the one the outermost of ours saw.

    Each proxy appends the address it received from to X-Forwarded-For, so the client's is PROXY_COUNT from the
    right; anything to the left of it was written by the client and proves nothing.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    if settings.PROXY_COUNT <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    if len(forwarded) < settings.PROXY_COUNT:
        return remote
    return forwarded[-settings.PROXY_COUNT]


def axes_client_address(request: HttpRequest) -> str | None:
    """client_address for django-axes, which wants an IP address or None."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


class Counters:
    """Where the counters live: the shared cache (Redis with REDIS_URL), or this process's own memory while the
    shared cache does not answer, so losing Redis loosens the limits (each process counts alone) instead of
    failing every request. The shared cache is tried again RETRY_SECONDS after a failure; the fallback is logged
    at WARNING at most once a minute."""

    RETRY_SECONDS = 5
    LOG_EVERY_SECONDS = 60

    def __init__(self) -> None:
        self.local = LocMemCache("config.net.counters", {})
        self.lock = threading.Lock()
        self.failed_at: float | None = None
        self.logged_at: float | None = None

    def store(self) -> BaseCache:
        failed_at = self.failed_at
        if failed_at is not None and time.monotonic() - failed_at < self.RETRY_SECONDS:
            return self.local
        return cache

    def shared_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.failed_at = now
            quiet = self.logged_at is not None and now - self.logged_at < self.LOG_EVERY_SECONDS
            if not quiet:
                self.logged_at = now
        if not quiet:
            logger.warning(
                "The shared cache does not answer (%s): rate limits count in this process until it does",
                type(exc).__name__,
            )

    def shared_answered(self) -> None:
        if self.failed_at is not None:
            self.failed_at = None
            logger.info("The shared cache answers again: rate limits are shared again")


counters = Counters()


def _in_counters(operation: Callable[[BaseCache], int]) -> int:
    """`operation` on the counters' cache, on this process's own when the shared one fails."""
    store = counters.store()
    if store is counters.local:
        return operation(store)
    try:
        result = operation(store)
    except CACHE_ERRORS as exc:
        counters.shared_failed(exc)
        return operation(counters.local)
    counters.shared_answered()
    return result


def _count(store: BaseCache, name: str, timeout: int) -> int:
    try:
        return int(store.incr(name))
    except ValueError:  # the window's first hit, or its counter expired a moment ago
        if store.add(name, 1, timeout=timeout):
            return 1
    try:
        return int(store.incr(name))
    except ValueError:  # expired between add and incr
        store.add(name, 1, timeout=timeout)
        return 1


def count_hit(name: str, timeout: int) -> int:
    """Count one hit on the cache counter `name`, which lives `timeout` seconds from its first hit; the count,
    this hit included. One cache operation in the usual case (`incr` is atomic in Redis and under LocMemCache's
    lock), two on a window's first hit."""
    return _in_counters(lambda store: _count(store, name, timeout))


def over_limit(key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit on `key` in the current window; True when the window already had `limit` hits.

    One counter per window in the cache (Django's default per process; a shared cache across processes when one
    is configured), so a check costs one or two cache operations whatever the limit.
    """
    if limit <= 0:
        return False
    return count_hit(f"rate:{key}", window_seconds) > limit
