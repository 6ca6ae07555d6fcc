"""Progress curves: how far a sandbox job has got at each fraction of its run time.

A curve is a list of ``(time fraction, progress fraction)`` points, both in [0, 1] and neither
going back, joined by straight lines; two points at one time make a step. ``(0, 0)`` and
``(1, 1)`` are implied. A few shapes that real imports show are named (``CURVES``), so a wait
can be tested against a job that stalls, jumps or changes pace as well as a steady one.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import Any

__all__ = ["CURVES", "Curve", "CurveSpec", "curve_points", "normalize_curve", "progress_at", "time_at"]

Curve = tuple[tuple[float, float], ...]
CurveSpec = str | Curve

_STEPS = 10
_SAMPLES = 20

CURVES: dict[str, Curve] = {
    "linear": ((0.0, 0.0), (1.0, 1.0)),
    # progress = time squared: slow start, fastest at the end
    "accelerating": tuple((i / _SAMPLES, (i / _SAMPLES) ** 2) for i in range(_SAMPLES + 1)),
    # progress = square root of time: fastest at the start, slowing down
    "decelerating": tuple(((i / _SAMPLES) ** 2, i / _SAMPLES) for i in range(_SAMPLES + 1)),
    # reported in 10 % steps, each at the moment the job gets there
    "steps": (
        (0.0, 0.0),
        *((k / _STEPS, p / _STEPS) for k in range(1, _STEPS + 1) for p in (k - 1, k)),
    ),
    # nothing for the first 30 % of the run (queued, or a slow first phase), then steady
    "idle-then-linear": ((0.0, 0.0), (0.3, 0.0), (1.0, 1.0)),
    # 90 % by half-time, then a slow tail
    "fast-then-tail": ((0.0, 0.0), (0.5, 0.9), (1.0, 1.0)),
}


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"progress curve: {what} must be a number from 0 to 1, got {value!r}")
    return float(value)


def normalize_curve(spec: Any) -> CurveSpec:
    """A curve's name, or its points checked and completed; anything else raises ``ValueError``."""
    if isinstance(spec, str):
        if spec not in CURVES:
            raise ValueError(f"unknown progress curve {spec!r}; named curves: {', '.join(CURVES)}")
        return spec
    if not isinstance(spec, Sequence) or not spec:
        raise ValueError(
            f"a progress curve is a name ({', '.join(CURVES)}) or a list of "
            f"(time fraction, progress fraction) points, got {spec!r}"
        )
    points: list[tuple[float, float]] = []
    for n, point in enumerate(spec, 1):
        if isinstance(point, (str, bytes)) or not isinstance(point, Sequence) or len(point) != 2:
            raise ValueError(f"progress curve point {n} must be a (time, progress) pair, got {point!r}")
        at, done = _fraction(point[0], f"point {n}'s time"), _fraction(point[1], f"point {n}'s progress")
        if points and (at < points[-1][0] or done < points[-1][1]):
            raise ValueError(f"progress curve point {n} {point!r} goes back from {points[-1]!r}")
        points.append((at, done))
    if points[0] != (0.0, 0.0):
        points.insert(0, (0.0, 0.0))
    if points[-1] != (1.0, 1.0):
        points.append((1.0, 1.0))
    return tuple(points)


def curve_points(spec: CurveSpec) -> Curve:
    """The points of a normalized spec (a name or points)."""
    return CURVES[spec] if isinstance(spec, str) else spec


def progress_at(curve: Curve, at: float) -> float:
    """Progress (0..1) at time fraction ``at``; at a step, the value after it."""
    if at >= 1.0:
        return 1.0
    if at < 0.0:
        return 0.0
    times = [point[0] for point in curve]
    i = bisect.bisect_right(times, at)  # curve[i - 1] is the last point at or before ``at``
    (t0, p0), (t1, p1) = curve[i - 1], curve[i]
    return p0 + (p1 - p0) * (at - t0) / (t1 - t0)


#: float rounding tolerated in a progress value
_ROUNDING = 1e-9


def time_at(curve: Curve, done: float) -> float:
    """The earliest time fraction at which the curve reaches ``done``."""
    if done <= 0.0:
        return 0.0
    for (t0, p0), (t1, p1) in itertools.pairwise(curve):
        if p1 >= done:
            if p1 == p0 or p0 >= done:
                return t0
            # the share of the span first: (t1 - t0) * (done - p0) can round to a subnormal
            # that the division then blows up past t1
            at = min(t1, t0 + (t1 - t0) * ((done - p0) / (p1 - p0)))
            # a span too small to divide in rounds back to t0: the curve gets there at t1
            return at if progress_at(curve, at) >= done - _ROUNDING else t1
    return 1.0
