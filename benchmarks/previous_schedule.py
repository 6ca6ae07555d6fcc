"""The poll schedule importbridge shipped before issue 11, frozen here as a benchmark baseline.

It assumed steady progress: one rate from the first progress value to the latest, the next poll
aimed just after the finish that rate gives (at most ``trust`` times the span it was measured
over, at most 120 s), else a blind series 1 s x1.5 capped at 12 s. Kept only so that
``benchmarks/polling.py`` can show what changed; nothing imports it.
"""

from __future__ import annotations

import random

import attrs

INITIAL, GROWTH, MAX_BLIND, MIN_INTERVAL, MAX_INTERVAL = 1.0, 1.5, 12.0, 0.5, 120.0
JITTER, SETTLE, TRUST, PROBES = 0.1, 0.5, 2.0, 6.0


@attrs.define
class PreviousMemory:
    started: float | None = None
    base: tuple[float, float] | None = None
    moved: tuple[float, float] | None = None
    step: float | None = None
    last: float | None = None

    def observe(self, at: float, fraction: float | None, resolution: float | None) -> None:
        if self.started is None:
            self.started = at
        if fraction is None:
            return
        if resolution is not None:
            self.step = resolution
        elif self.last is not None and fraction > self.last:
            increment = fraction - self.last
            self.step = increment if self.step is None else min(self.step, increment)
        self.last = fraction
        if self.base is None or fraction < self.base[1]:
            self.base, self.moved = (at, fraction), None
        elif fraction == self.base[1]:
            self.base = (at, fraction)
        elif self.moved is None or fraction > self.moved[1]:
            self.moved = (at, fraction)


def _window(memory: PreviousMemory) -> tuple[float, float] | None:
    if memory.base is None or memory.moved is None:
        return None
    (t0, p0), (t1, p1) = memory.base, memory.moved
    if t1 <= t0 or p1 - p0 < 1e-9:
        return None
    step = memory.step or 0.0
    slowest = max(p1 - p0 - step, (p1 - p0) / 2)
    latest = t1 + (1.0 - p1) * (t1 - t0) / slowest
    earliest = t1 + max(0.0, 1.0 - p1 - step) * (t1 - t0) / (p1 - p0 + step)
    return earliest, latest


def previous_delay(memory: PreviousMemory, now: float, rng: random.Random) -> float:
    """Seconds to sleep, as the previous schedule decided."""
    window = _window(memory)
    if window is not None and window[1] + SETTLE > now and memory.base and memory.moved:
        earliest, latest = max(window[0], now), window[1]
        probe = max(2 * SETTLE, (window[1] - window[0]) / PROBES)
        target = min(earliest + probe, latest + SETTLE)
        span = memory.moved[0] - memory.base[0]
        delay = min(target - now, max(TRUST * span, MIN_INTERVAL))
    else:
        started = memory.started if memory.started is not None else now
        reference = window[1] if window is not None else started
        blind = min(MAX_BLIND, INITIAL + (GROWTH - 1.0) * max(0.0, now - reference))
        delay = blind * rng.uniform(1.0 - JITTER, 1.0 + JITTER)
    return min(max(delay, MIN_INTERVAL), MAX_INTERVAL)
