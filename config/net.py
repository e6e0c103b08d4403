"""The client's address and a fixed-window rate limit, for the public pages (and anything else that needs them)."""

import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


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


def count_hit(name: str, timeout: int) -> int:
    """Count one hit on the cache counter `name`, which lives `timeout` seconds from its first hit; the count,
    this hit included. One cache operation in the usual case (`incr` is atomic in Redis and under LocMemCache's
    lock), two on a window's first hit."""
    try:
        return int(cache.incr(name))
    except ValueError:  # the window's first hit, or its counter expired a moment ago
        if cache.add(name, 1, timeout=timeout):
            return 1
    try:
        return int(cache.incr(name))
    except ValueError:  # expired between add and incr
        cache.add(name, 1, timeout=timeout)
        return 1


def over_limit(key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit on `key` in the current window; True when the window already had `limit` hits.

    One counter per window in the cache (Django's default per process; a shared cache across processes when one
    is configured), so a check costs one or two cache operations whatever the limit.
    """
    if limit <= 0:
        return False
    return count_hit(f"rate:{key}", window_seconds) > limit


def hits(key: str) -> int:
    """How many hits `key` has in its current window (0 when none)."""
    return int(cache.get(f"rate:{key}", 0))
