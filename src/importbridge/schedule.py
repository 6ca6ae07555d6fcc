"""When to poll next: the policy, the per-job memory, and the pure function joining them.

Two regimes, chosen per poll:

- *aimed*: once a job's progress has moved between two observations, the observed rate gives a
  window in which it should finish (as wide as the progress's resolution makes it: one row, 1 %).
  The next poll lands ``settle`` seconds after a narrow window; a wide one is probed at
  ``1 / probes`` of its width. A jump is never longer than ``trust`` times the span the rate was
  measured over (an estimate from 1.5 s of progress may not send us 60 s ahead, one from a
  minute may), nor than ``max_interval``.
- *blind*: with no usable estimate (no progress reported, progress not moving, or the estimate
  already passed), the interval grows geometrically, ``initial * growth**n`` capped at
  ``max_blind_interval``, with +/- ``jitter``. It is computed from the time elapsed since a
  reference point (``initial + (growth - 1) * elapsed`` is the same geometric series), so the
  schedule needs no counter and survives a resume token intact.

Everything here is pure: time comes in as numbers, randomness from the policy's ``random``.
"""

from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .model import ImportJob

__all__ = ["Memory", "PollPolicy", "estimate_finish", "job_progress", "next_delay"]


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is None and attribute.name in _OPTIONAL:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(f"PollPolicy.{attribute.name} must be a positive number, got {value!r}")


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigurationError(f"PollPolicy.{attribute.name} must be a number >= 0, got {value!r}")


_OPTIONAL = frozenset({"deadline", "max_attempts"})
_MOVED = 1e-9  # progress must move by more than float dust to give a rate


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How to watch one job. Every field has a default tuned by ``benchmarks/polling.py``.

    Time is injectable: ``clock`` returns epoch seconds (tokens carry absolute deadlines, so it
    must be a wall clock shared across processes, or the sandbox's virtual one) and ``sleep``
    waits; tests pass ``sb.clock.now`` / ``sb.clock.sleep`` and never wait for real.
    """

    initial: float = attrs.field(default=1.0, validator=_positive)
    """First blind interval, seconds."""
    growth: float = attrs.field(default=1.5, validator=_positive)
    """Factor between successive blind intervals (>= 1)."""
    max_blind_interval: float = attrs.field(default=12.0, validator=_positive)
    """Longest blind interval: the cap while the job gives no hint of its finish."""
    min_interval: float = attrs.field(default=0.5, validator=_positive)
    """Shortest sleep between two polls of one job."""
    max_interval: float = attrs.field(default=120.0, validator=_positive)
    """Longest sleep of all, aimed ones included."""
    jitter: float = attrs.field(default=0.1, validator=_non_negative)
    """Blind intervals are scaled by a uniform factor in [1 - jitter, 1 + jitter]."""
    settle: float = attrs.field(default=0.5, validator=_non_negative)
    """How long after an estimated finish an aimed poll lands."""
    trust: float = attrs.field(default=2.0, validator=_positive)
    """An aimed jump is at most ``trust`` times the span the rate was measured over."""
    probes: float = attrs.field(default=6.0, validator=_positive)
    """How many polls may probe the window in which an estimated finish is uncertain."""
    deadline: float | None = attrs.field(default=None, validator=_positive)
    """Seconds the whole wait may take (None: no deadline); ``wait(timeout=)`` overrides it."""
    max_attempts: int | None = attrs.field(default=None, validator=_positive)
    """Most status requests one wait may make, resumed waits included (None: no limit)."""
    strict: bool = False
    """Raise ``StateRegression`` instead of dropping a snapshot that moves a job backwards."""
    clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    random: _random.Random = attrs.field(factory=_random.Random, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.growth < 1:
            raise ConfigurationError(f"PollPolicy.growth must be >= 1, got {self.growth!r}")
        if self.jitter >= 1:
            raise ConfigurationError(f"PollPolicy.jitter must be below 1, got {self.jitter!r}")
        if self.min_interval > self.max_interval:
            raise ConfigurationError(
                f"PollPolicy.min_interval ({self.min_interval}) exceeds max_interval ({self.max_interval})"
            )


@attrs.define(kw_only=True)
class Memory:
    """What the schedule remembers about one job between polls (and carries in resume tokens).

    ``base`` is the latest observation still at the first progress value seen (``None`` until a
    progress is known); ``moved`` is the first observation at the latest progress value. Using the
    *latest* time the job sat at its start and the *first* time it showed its newest value errs
    towards a faster rate, so an estimate lands early rather than late. ``step`` is the smallest
    progress increment seen between two polls: the resolution of the provider's progress (1 % for a
    whole percentage), which says how uncertain the latest value, and so the finish, is.
    """

    started: float | None = None
    attempts: int = 0
    base: tuple[float, float] | None = None
    moved: tuple[float, float] | None = None
    step: float | None = None
    last: float | None = None

    def observe(self, at: float, fraction: float | None, resolution: float | None = None) -> None:
        """Record one snapshot answered at ``at`` (``attempts`` is counted by whoever asks).

        ``resolution`` is the progress's known granularity (``1 / total`` for row counts);
        without it the smallest increment seen stands in for it.
        """
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
        if self.base is None or fraction < self.base[1]:  # first progress, or it went back: restart
            self.base, self.moved = (at, fraction), None
        elif fraction == self.base[1]:
            self.base = (at, fraction)
        elif self.moved is None or fraction > self.moved[1]:
            self.moved = (at, fraction)


def job_progress(job: ImportJob) -> tuple[float | None, float | None]:
    """How far a job is (0..1, or None) and how finely that is known (None: not known).

    Row counts say it best (``processed / total``, to one row); else the provider's ``progress``.
    """
    if job.processed is not None and job.total:
        return min(1.0, job.processed / job.total), 1.0 / job.total
    return job.progress, None


def estimate_finish(memory: Memory) -> tuple[float, float] | None:
    """The window ``(earliest, latest)`` in which the job should finish at its observed rate.

    The latest: the job showed its newest value at ``moved`` and is at least that far along.
    The earliest: it may have been up to one ``step`` further. None with no rate to go on.
    """
    if memory.base is None or memory.moved is None:
        return None
    (t0, p0), (t1, p1) = memory.base, memory.moved
    if t1 <= t0 or p1 - p0 < _MOVED:
        return None
    step = memory.step or 0.0
    # Either end may have been up to one step further along than it showed.
    slowest = max(p1 - p0 - step, (p1 - p0) / 2)
    latest = t1 + (1.0 - p1) * (t1 - t0) / slowest
    earliest = t1 + max(0.0, 1.0 - p1 - step) * (t1 - t0) / (p1 - p0 + step)
    return earliest, latest


def next_delay(policy: PollPolicy, memory: Memory, now: float, *, retry_after: float | None = None) -> float:
    """Seconds to sleep before the next poll of a job last observed at ``now``."""
    window = estimate_finish(memory)
    if window is not None and window[1] + policy.settle > now and memory.base and memory.moved:
        earliest, latest = max(window[0], now), window[1]
        # A wide window (coarse progress, a short baseline) is probed at 1/probes of its width,
        # so the finish is noticed a few seconds late at worst instead of a whole step late.
        probe = max(2 * policy.settle, (window[1] - window[0]) / policy.probes)
        target = min(earliest + probe, latest + policy.settle)
        span = memory.moved[0] - memory.base[0]
        delay = min(target - now, max(policy.trust * span, policy.min_interval))
    else:
        finish = window[1] if window is not None else None
        reference = finish if finish is not None else (memory.started if memory.started is not None else now)
        blind = min(
            policy.max_blind_interval, policy.initial + (policy.growth - 1.0) * max(0.0, now - reference)
        )
        delay = blind * policy.random.uniform(1.0 - policy.jitter, 1.0 + policy.jitter)
    delay = min(max(delay, policy.min_interval), policy.max_interval)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
