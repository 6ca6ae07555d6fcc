"""When to poll next: the policy, the per-job memory, and the pure function joining them.

Progress is learnt from its shape, not assumed steady. The memory keeps the job's last few
*moves*: each a bracket ``(before, after]`` in which the progress reached a new value (the last
poll still at the old value, the first one showing the new). The estimator looks for the lines
(a pace and a finish time) that pass through every recent bracket and through the current
plateau (no further move by the latest poll): steps of 10 % fit such a line as well as a steady
trickle of rows, and several brackets narrow the finish down to far less than any one of them.
When no line fits (the pace changed: faster, slower, a stall and a restart), the oldest moves are
dropped until one does, so the estimate follows the recent pace.

Four regimes, chosen per poll:

- *approach*: before the earliest plausible finish, sleep ``approach`` of the time left to it (so
  a pace that quickens is caught on the way; halfway from that to all of it once ``_STEADY``
  moves fit one pace), at most ``trust`` times the span the estimate rests on and
  ``max_interval``; while progress moves in coarse steps far apart, polls time the steps;
- *probe*: inside the window of plausible finish times, poll every ``1 / probes`` of its width,
  never more than ``probe_interval`` apart: this is where the finish is noticed;
- *overdue*: past the window, the job is slower than it looked (or finalizing at 100 %): a
  series growing from ``initial`` by ``growth``, capped at ``max_stall_interval``, until it
  moves again and a new estimate takes over;
- *blind*: no progress reported at all: the same series capped at ``max_blind_interval``, with
  +/- ``jitter``; progress reported but not moving yet (a queued or idle job): capped at
  ``max_stall_interval``.

The series are computed from the time elapsed since a reference point
(``initial + (growth - 1) * elapsed`` is the geometric series ``initial * growth**n``), so the
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

__all__ = ["Memory", "Move", "PollPolicy", "estimate_finish", "job_progress", "next_delay"]


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
MOVES_KEPT = 5  # recent moves the memory keeps (and a token carries)
_PACE_SPREAD = 16.0  # paces considered: within this factor of the one observed
_STEADY = 4  # moves that must fit one pace before the approach trusts it further
_BISECT = 2.0  # time a coarse step when its window is at least this share of the finish's


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
    max_interval: float = attrs.field(default=300.0, validator=_positive)
    """Longest sleep of all, aimed ones included."""
    max_stall_interval: float = attrs.field(default=60.0, validator=_positive)
    """Longest sleep while progress is reported but not moving, or late on its estimate."""
    jitter: float = attrs.field(default=0.1, validator=_non_negative)
    """Blind intervals are scaled by a uniform factor in [1 - jitter, 1 + jitter], approach
    sleeps by one in [1 - jitter, 1]."""
    settle: float = attrs.field(default=0.5, validator=_non_negative)
    """How long after the latest plausible finish probing goes on before the job counts as late."""
    trust: float = attrs.field(default=2.0, validator=_positive)
    """An aimed jump is at most ``trust`` times the span the estimate rests on."""
    approach: float = attrs.field(default=0.5, validator=_positive)
    """Before the finish window, sleep this fraction of the time left to it (below 1); halfway
    from it to 1 while the recent moves all fit one pace."""
    probes: float = attrs.field(default=6.0, validator=_positive)
    """How many polls may probe the window in which an estimated finish is uncertain."""
    probe_interval: float = attrs.field(default=5.0, validator=_positive)
    """Longest sleep while probing the finish window: about twice the mean detection delay
    (and never shorter than ``2 * settle``)."""
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
        if self.approach >= 1:
            raise ConfigurationError(f"PollPolicy.approach must be below 1, got {self.approach!r}")
        if self.jitter >= 1:
            raise ConfigurationError(f"PollPolicy.jitter must be below 1, got {self.jitter!r}")
        if self.min_interval > self.max_interval:
            raise ConfigurationError(
                f"PollPolicy.min_interval ({self.min_interval}) exceeds max_interval ({self.max_interval})"
            )



@attrs.frozen
class Move:
    """The progress reached ``to`` (from ``before_value``) between two polls: the last one still
    showing ``before_value`` at ``before`` and the first one showing ``to`` at ``after``."""

    before: float
    before_value: float
    after: float
    to: float


@attrs.define(kw_only=True)
class Memory:
    """What the schedule remembers about one job between polls (and carries in resume tokens).

    ``started``: the first poll; ``attempts``: requests made (counted by whoever asks); ``last``:
    the latest progress, last seen at ``seen``; ``moves``: the last ``MOVES_KEPT`` moves.
    ``step`` is the smallest increment seen (never below the known resolution): the progress's
    granularity, one row, 1 %, or 10 % for a job that reports in steps, which says how far the
    job may be past the value it shows.
    """

    started: float | None = None
    attempts: int = 0
    step: float | None = None
    last: float | None = None
    seen: float | None = None
    moves: tuple[Move, ...] = ()

    def observe(self, at: float, fraction: float | None, resolution: float | None = None) -> None:
        """Record one snapshot answered at ``at``.

        ``resolution`` is the progress's known granularity (``1 / total`` for row counts), a floor
        for ``step``; the increments seen say how coarse it really is.
        """
        if self.started is None:
            self.started = at
        if fraction is None:
            return
        if self.last is None or self.seen is None or fraction < self.last - _MOVED or at < self.seen:
            self.moves = ()  # first progress, or it went back: restart
        elif fraction > self.last + _MOVED:
            increment = fraction - self.last
            finest = increment if self.step is None else min(self.step, increment)
            self.step = max(finest, resolution or 0.0)
            move = Move(before=self.seen, before_value=self.last, after=at, to=fraction)
            self.moves = (*self.moves, move)[-MOVES_KEPT:]
        self.last, self.seen = fraction, at


def job_progress(job: ImportJob) -> tuple[float | None, float | None]:
    """How far a job is (0..1, or None) and how finely that is known (None: not known).

    Row counts say it best (``processed / total``, to one row); else the provider's ``progress``.
    """
    if job.processed is not None and job.total:
        return min(1.0, job.processed / job.total), 1.0 / job.total
    return job.progress, None


_Line = tuple[float, float]  # T = c + m * u, u the seconds one whole job's progress takes


def _finish_range(
    below: list[_Line], above: list[_Line], paces: tuple[float, float], plateau: _Line
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """The least and greatest finish time ``T`` over every ``(u, T)`` with ``T`` at least each
    line of ``below``, at most each of ``above``, and ``u`` within ``paces``, without and with
    ``plateau`` as one more line below: a two-variable linear programme, solved at the corners
    of its (convex) feasible region."""
    floors: dict[float, float] = {}  # of parallel lines only the tightest one matters
    for c, m in below:
        floors[m] = max(c, floors.get(m, c))
    ceilings: dict[float, float] = {}
    for c, m in above:
        ceilings[m] = min(c, ceilings.get(m, c))
    lows, highs = list(floors.items()), list(ceilings.items())
    lines = [*lows, *highs, (plateau[1], plateau[0])]
    slowest, fastest = paces
    candidates = [slowest, fastest]
    for i, (m1, c1) in enumerate(lines):
        for m2, c2 in lines[i + 1 :]:
            if m1 != m2:
                u = (c2 - c1) / (m1 - m2)
                if slowest < u < fastest:
                    candidates.append(u)
    loose, tight = [math.inf, -math.inf], [math.inf, -math.inf]
    for u in candidates:
        low = max([c + m * u for m, c in lows])
        high = min([c + m * u for m, c in highs])
        if low <= high + 1e-6:
            loose[0], loose[1] = min(loose[0], low), max(loose[1], high)
            low = max(low, plateau[0] + plateau[1] * u)
            if low <= high + 1e-6:
                tight[0], tight[1] = min(tight[0], low), max(tight[1], high)
    return (
        (loose[0], loose[1]) if loose[0] <= loose[1] + 1e-6 else None,
        (tight[0], tight[1]) if tight[0] <= tight[1] + 1e-6 else None,
    )


def _reach(memory: Memory, target: float) -> tuple[float, float, float, bool] | None:
    """``(earliest, latest, width, steady)``: when the job should reach progress ``target``, the
    window's width before the current plateau ruled its beginning out (how finely to probe it),
    and whether at least ``_STEADY`` moves, all that are kept, fit one pace.

    In terms of ``u``, the seconds the whole job takes at its current pace, a move to ``to``
    bracketed by ``(before, after]`` says ``target`` is reached no sooner than
    ``before + (target - to) * u`` and ``after + (target - to - step) * u`` (it showed ``to`` by
    ``after``, at most one step before), and no later than ``after + (target - to) * u``; the
    plateau says no sooner than ``seen + (target - last - step) * u``. Every recent move must fit
    one pace; if none does, the pace changed and the oldest moves are dropped until one does.
    """
    moves, step = memory.moves, memory.step or 0.0
    if not moves or memory.last is None or memory.seen is None:
        return None
    ref = memory.seen  # times relative to the latest poll: epoch seconds lose precision in sums
    plateau = (0.0, max(0.0, target - memory.last - step))
    for first in range(len(moves)):
        recent = moves[first:]
        span = recent[-1].after - recent[0].before
        if span <= 0 or recent[-1].to <= recent[0].before_value:
            continue
        observed = span / (recent[-1].to - recent[0].before_value)
        below = [(m.before - ref, target - m.to) for m in recent]
        below += [(m.after - ref, target - m.to - step) for m in recent]
        above = [(m.after - ref, target - m.to) for m in recent]
        paces = (observed / _PACE_SPREAD, observed * _PACE_SPREAD)
        loose, tight = _finish_range(below, above, paces, plateau)
        if loose is None:
            continue
        steady = first == 0 and len(moves) >= _STEADY
        if tight is None:  # the plateau has outlasted every pace that fits: the job is late
            return ref + loose[1], ref + loose[1], loose[1] - loose[0], steady
        return ref + tight[0], ref + tight[1], loose[1] - loose[0], steady
    return None


def estimate_finish(memory: Memory) -> tuple[float, float] | None:
    """The window ``(earliest, latest)`` of plausible finish times, or None with no pace to go on.

    The window spans the finishes of every pace (within a factor of 16 of the observed one) that
    fits the recent moves; see ``_reach``.
    """
    estimate = _reach(memory, 1.0)
    return None if estimate is None else (estimate[0], estimate[1])


def _bisected(policy: PollPolicy, memory: Memory, now: float, delay: float, width: float) -> float:
    """``delay``, or sooner, to time the next step better while the finish is too uncertain to
    probe cheaply (progress in coarse steps far apart).

    A step before the last one is aimed at the middle of the window in which it should show:
    each such poll halves the uncertainty of when the steps come, and so of when the last one
    will. The step just before the finish is probed like a finish, ``probes`` polls across its
    window: how tightly it is bracketed is how tightly the finish is.
    """
    step, last = memory.step, memory.last
    if width <= policy.probes * policy.probe_interval or not step or last is None:
        return delay
    if last + step >= 1.0 - _MOVED:
        return delay
    nxt = _reach(memory, last + step)
    if nxt is None:
        return delay
    earliest, latest, spread, _ = nxt
    if last + 2 * step >= 1.0 - _MOVED:
        spacing = max(policy.probe_interval, spread / policy.probes)
        return min(delay, max(earliest - now, spacing))
    if latest - earliest < max(2 * policy.probe_interval, width / _BISECT):
        return delay
    return min(delay, max((earliest + latest) / 2 - now, policy.min_interval))


def _series(policy: PollPolicy, elapsed: float, cap: float) -> float:
    """The geometric series ``initial * growth**n``, capped, as a function of time elapsed."""
    return min(cap, policy.initial + (policy.growth - 1.0) * max(0.0, elapsed))


def next_delay(policy: PollPolicy, memory: Memory, now: float, *, retry_after: float | None = None) -> float:
    """Seconds to sleep before the next poll of a job last observed at ``now``."""
    estimate = _reach(memory, 1.0)
    reference = memory.started if memory.started is not None else now
    if memory.last is None:  # blind: no progress reported
        jitter = policy.random.uniform(1.0 - policy.jitter, 1.0 + policy.jitter)
        delay = _series(policy, now - reference, policy.max_blind_interval) * jitter
    elif estimate is None:  # progress reported, not moving yet
        jitter = policy.random.uniform(1.0 - policy.jitter, 1.0 + policy.jitter)
        delay = _series(policy, now - reference, policy.max_stall_interval) * jitter
    else:
        earliest, latest, width, steady = estimate
        probe = min(policy.probe_interval, max(policy.min_interval, 2 * policy.settle, width / policy.probes))
        if now + probe < earliest:  # approach: a fraction of the way, then land on it
            ahead = earliest - now
            # jittered (shortened), so that polls do not lock into phase with a job's steps
            spread = policy.random.uniform(1.0 - policy.jitter, 1.0)
            if ahead * policy.approach < policy.probe_interval:
                delay = ahead
            else:
                share = (1.0 + policy.approach) / 2 if steady else policy.approach
                delay = min(ahead * share, policy.max_interval) * spread
            delay = _bisected(policy, memory, now, delay, width)
            rests_on = memory.moves[-1].after - memory.moves[0].before
            delay = min(delay, max(policy.trust * rests_on, policy.min_interval))
        elif now < latest + policy.settle:  # probe the window
            delay = probe
        else:  # overdue: slower than it looked, or finalizing
            delay = _series(policy, now - latest, policy.max_stall_interval)
    delay = min(max(delay, policy.min_interval), policy.max_interval)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
