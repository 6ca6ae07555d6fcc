"""The virtual clock every simulator reads, so tests can move time instead of sleeping.

Virtual time flows with real time plus whatever ``advance`` added. ``frozen=True`` stops the
real-time flow: only ``advance`` moves it, which makes job progress, idempotency windows and
job expiry deterministic in tests and benchmarks.
"""

from __future__ import annotations

import threading
import time

__all__ = ["VirtualClock"]


class VirtualClock:
    """Virtual epoch seconds; thread-safe."""

    def __init__(self, *, start: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._origin = time.time() if start is None else float(start)
        self._real_origin = time.monotonic()
        self._offset = 0.0  # the sum of every advance
        self._frozen = frozen

    @property
    def frozen(self) -> bool:
        """Whether virtual time stands still between ``advance`` calls."""
        return self._frozen

    def now(self) -> float:
        """Virtual seconds since the epoch."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        flowed = 0.0 if self._frozen else time.monotonic() - self._real_origin
        return self._origin + flowed + self._offset

    def monotonic(self) -> float:
        """Real monotonic seconds plus every advance, frozen or not.

        Rate limits count on this: their window opens when a client really waits out a
        ``Retry-After`` (even with a frozen clock) and when a test advances the clock.
        """
        with self._lock:
            return time.monotonic() + self._offset

    def advance(self, seconds: float) -> float:
        """Jump virtual time forward by ``seconds`` (never backwards); returns the new time."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; got advance({seconds!r})")
        with self._lock:
            self._offset += seconds
            return self._now_locked()

    def sleep(self, seconds: float) -> None:
        """Same as ``advance``: inject it as a poller's ``sleep`` so waiting costs no real time."""
        self.advance(max(0.0, seconds))

    def freeze(self) -> None:
        """Stop real time from flowing into virtual time (the current virtual time is kept)."""
        with self._lock:
            if not self._frozen:
                self._origin = self._now_locked() - self._offset
                self._frozen = True

    def unfreeze(self) -> None:
        """Let real time flow again from the current virtual time."""
        with self._lock:
            if self._frozen:
                self._origin = self._now_locked() - self._offset
                self._real_origin = time.monotonic()
                self._frozen = False

    def __repr__(self) -> str:
        return f"<VirtualClock now={self.now():.3f} frozen={self._frozen}>"
