"""Fault injection: seeded random faults at a rate, plus scripted ones that tests aim precisely.

Each request to a simulator asks ``FaultInjector.pick`` once, before it is handled. Scripted
faults match first (in the order they were added); otherwise, with probability ``rate``, a kind
is drawn from ``kinds`` by a ``random.Random(seed)``, so a sequential client sees the same
faults on every run with the same seed. ``/_sandbox/*`` is never faulted.

Kinds (what the client sees):

- ``"429"``: the provider's rate-limit error with ``Retry-After``; nothing happened.
- ``"500"``, ``"502"``, ``"503"``: the provider's server error; nothing happened.
- ``"reset_before"``: the connection is reset before the request is handled; nothing happened.
- ``"reset_after"``: the request is handled (an import *was* created), then the connection is
  reset: the response is lost.
- ``"slow"``: the response is delayed ``slow_seconds`` of real time, then sent normally.
- ``"truncated"``: the request is handled and the JSON body is cut in half (with an honest
  Content-Length), so it no longer parses.
"""

from __future__ import annotations

import collections
import fnmatch
import random
import threading

import attrs

__all__ = ["FAULT_KINDS", "FaultInjector", "ScriptedFault"]

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "502",
    "503",
    "reset_before",
    "reset_after",
    "slow",
    "truncated",
)

# faults that answer instead of the simulator: status code and whether the effect happened
ERROR_STATUS: dict[str, int] = {"429": 429, "500": 500, "502": 502, "503": 503}


def _check_kind(kind: str) -> str:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
    return kind


@attrs.define(kw_only=True)
class ScriptedFault:
    """``kind`` for the next ``times`` requests matching ``method`` and the ``path`` glob.

    ``path`` is a shell-style pattern over the full path, mount included
    (``"/micro/v2/prism/*/imports/*"``); None matches every path, as ``method=None`` every method.
    """

    kind: str = attrs.field(converter=_check_kind)
    method: str | None = None
    path: str | None = None
    times: int = 1
    used: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.times - self.used)

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


class FaultInjector:
    """Decides, per request, whether and how it fails. Thread-safe."""

    def __init__(
        self,
        rate: float = 0.0,
        *,
        seed: int | None = None,
        kinds: tuple[str, ...] = FAULT_KINDS,
        slow_seconds: float = 1.0,
        retry_after: int = 1,
    ) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._scripted: list[ScriptedFault] = []
        self.kinds = tuple(_check_kind(kind) for kind in kinds)
        self.rate = rate
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.injected: collections.Counter[str] = collections.Counter()

    @property
    def rate(self) -> float:
        """Probability that an unscripted request fails (0.0 to 1.0)."""
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        if isinstance(value, bool) or not 0.0 <= value <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {value!r}")
        self._rate = float(value)

    def seed(self, seed: int | None) -> None:
        """Restart the random sequence (same seed, same faults for the same requests)."""
        with self._lock:
            self._random = random.Random(seed)

    def script(
        self, *, kind: str, method: str | None = None, path: str | None = None, times: int = 1
    ) -> ScriptedFault:
        """Make the next ``times`` matching requests fail with ``kind``; returns the entry."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times!r}")
        fault = ScriptedFault(kind=kind, method=method, path=path, times=times)
        with self._lock:
            self._scripted.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every scripted fault (the random rate stays)."""
        with self._lock:
            self._scripted.clear()

    def pick(self, method: str, path: str) -> str | None:
        """The fault for this request, or None. Counts what it injects."""
        with self._lock:
            for fault in self._scripted:
                if fault.matches(method, path):
                    fault.used += 1
                    self.injected[fault.kind] += 1
                    return fault.kind
            self._scripted = [fault for fault in self._scripted if fault.remaining]
            if self._rate and self.kinds and self._random.random() < self._rate:
                kind = self._random.choice(self.kinds)
                self.injected[kind] += 1
                return kind
            return None

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {
                "rate": self._rate,
                "injected": dict(sorted(self.injected.items())),
                "scripted_pending": sum(fault.remaining for fault in self._scripted),
            }
