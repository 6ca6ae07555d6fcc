"""A token bucket that says *when* a request may go, instead of sleeping blindly.

``wait_all`` asks the bucket of a job's client before each status request: ``reserve()``
either takes a token and returns 0, or returns how many seconds until one is free, and the
scheduler polls other providers' jobs meanwhile. Time comes from the caller's clock, so tests
drive it with the sandbox's virtual clock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

__all__ = ["TokenBucket"]

_EPSILON = 1e-9
#: shortest wait ever advised: epoch-sized floats cannot move by much less, and a virtual clock
#: asked to advance by 1e-9 s would stand still, leaving the caller asking again forever
_TICK = 1e-3


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts of at most ``burst``.

    ``burst`` defaults to 1: requests are spaced ``1 / rate`` apart, which keeps any one-second
    window (however a provider counts it) at or under ``rate`` requests.
    """

    def __init__(self, rate: float, *, burst: float = 1.0, clock: Callable[[], float]) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of requests per second, got {rate!r}")
        if not (math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._stamp: float | None = None
        self._hold_until = -math.inf
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        if self._stamp is None or now > self._stamp:
            self._stamp = now

    def reserve(self) -> float:
        """Take a token now (returns 0.0) or say how many seconds until one is available."""
        with self._lock:
            now = self._clock()
            if now < self._hold_until:
                return self._hold_until - now
            self._refill(now)
            if self._tokens >= 1 - _EPSILON:  # float sums of waits must not leave a sliver
                self._tokens = max(0.0, self._tokens - 1)
                return 0.0
            return max(_TICK, (1 - self._tokens) / self.rate)

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a provider's ``Retry-After``) and start again empty."""
        with self._lock:
            now = self._clock()
            self._hold_until = max(self._hold_until, now + seconds)
            self._tokens = 0.0
            self._stamp = self._hold_until
