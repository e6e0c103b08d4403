"""The API's rate limit per user, counted in one cache entry per window.

DRF's `UserRateThrottle` keeps the time of every request of the last period in one cache entry, a list it
reads, filters and writes back whole (pickled) on every request: at the default 600 per minute, up to 600
timestamps per call. This counts instead: one integer per user and fixed window (the rate's period), with the
counter the other rate limits use (`config.net.count_hit`), so a request costs one cache operation whatever the
rate. The limit is the same (`API_RATE_LIMIT`, e.g. 600/min); a fixed window may let through up to
twice the rate across the boundary of two windows, which a limit meant to stop runaway clients allows.
`Retry-After` says when the current window ends.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from config.net import count_hit


class WindowRateThrottle(UserRateThrottle):
    """`UserRateThrottle`'s rate and key (the user, or the address when anonymous), counted per fixed window."""

    retry_after: float | None = None
    num_requests: int  # set from the rate by SimpleRateThrottle.__init__
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        count = count_hit(f"{key}:{window}", self.duration + 1)  # the cache DRF's throttles use: Django's default
        self.retry_after = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self) -> float | None:
        return self.retry_after
