"""Provider rules that several simulators share: per-key rate limits and idempotency replay.

Idempotency records age on virtual time (``advance`` a day and they are gone). Rate-limit
windows count ``VirtualClock.monotonic()``: real time plus advances, so a client that really
waits out ``Retry-After`` gets through even when a test froze the clock.
"""

from __future__ import annotations

import collections
import hashlib
import math
import threading
from collections.abc import Callable

import attrs

from .clock import VirtualClock
from .messages import Response

__all__ = ["IdempotencyCache", "IdempotencyOutcome", "RateLimiter", "fingerprint"]


class RateLimiter:
    """A sliding one-second window per key; ``limit()`` is read on every call (live config)."""

    def __init__(self, clock: VirtualClock, limit: Callable[[], float | None]) -> None:
        self._clock = clock
        self._limit = limit
        self._lock = threading.Lock()
        self._seen: dict[str, collections.deque[float]] = {}
        self.rejected = 0

    def check(self, key: str) -> float | None:
        """Count one request for ``key``; None if allowed, else the seconds to wait (>= 1)."""
        limit = self._limit()
        if limit is None:
            return None
        now = self._clock.monotonic()
        with self._lock:
            window = self._seen.setdefault(key, collections.deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                self.rejected += 1
                return max(1.0, math.ceil(window[0] + 1.0 - now))
            window.append(now)
            return None


def fingerprint(*parts: bytes | str) -> str:
    """A stable digest of what makes two requests "the same" for idempotency."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


@attrs.frozen
class IdempotencyOutcome:
    """What ``IdempotencyCache.lookup`` found: a response to replay, or a mismatch, or nothing."""

    replay: Response | None = None
    mismatch: bool = False


@attrs.define
class _Entry:
    fingerprint: str
    response: Response
    stored_at: float


class IdempotencyCache:
    """First responses per (scope, key), kept ``ttl`` virtual seconds, with per-key request counts."""

    def __init__(self, clock: VirtualClock, ttl: float) -> None:
        self._clock = clock
        self._ttl = ttl
        self.lock = threading.RLock()  # hold it across lookup + handling + remember
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.requests: collections.Counter[str] = collections.Counter()
        self.replays: collections.Counter[str] = collections.Counter()

    def lookup(self, scope: str, key: str, digest: str) -> IdempotencyOutcome:
        with self.lock:
            self.requests[key] += 1
            entry = self._entries.get((scope, key))
            if entry is not None and self._clock.now() - entry.stored_at >= self._ttl:
                del self._entries[(scope, key)]
                entry = None
            if entry is None:
                return IdempotencyOutcome()
            if entry.fingerprint != digest:
                return IdempotencyOutcome(mismatch=True)
            self.replays[key] += 1
            return IdempotencyOutcome(replay=entry.response)

    def remember(self, scope: str, key: str, digest: str, response: Response) -> None:
        with self.lock:
            self._entries[(scope, key)] = _Entry(digest, response, self._clock.now())

    def stats(self) -> dict[str, dict[str, int]]:
        """Per key: requests seen and how many of them were replays."""
        with self.lock:
            return {
                key: {"requests": count, "replays": self.replays.get(key, 0)}
                for key, count in sorted(self.requests.items())
            }
