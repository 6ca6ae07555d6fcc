"""The sandbox's live knobs, shared by every simulator and changed with ``sb.configure``."""

from __future__ import annotations

import threading
from typing import Any

import attrs

from .curves import CurveSpec, normalize_curve

__all__ = ["DEFAULT_SPEED", "SandboxConfig"]

DEFAULT_SPEED = 250.0  # virtual rows per second: 400 rows finish in under 2 s of real time


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{attribute.name} must be zero or more, got {value!r}")


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """One immutable snapshot of the knobs; ``LiveConfig`` swaps snapshots atomically.

    - ``speed``: virtual rows per second a job processes.
    - ``start_delay``: virtual seconds between accepting a job and starting it.
    - ``report_progress``: False hides progress while a job runs (for polling benchmarks).
    - ``progress_curve``: how a job's progress moves over its run time: a name from
      ``curves.CURVES`` or ``(time fraction, progress fraction)`` points; a job keeps the
      curve it was accepted with.
    - ``rate_limit``: requests per second per key where a provider documents one (None: off).
    - ``sync_threshold``: largest batch a provider with sync/async routing answers inline.
    - ``max_body``: largest request body in bytes; larger ones get 413.
    """

    speed: float = attrs.field(default=DEFAULT_SPEED, validator=_positive)
    start_delay: float = attrs.field(default=0.2, validator=_non_negative)
    report_progress: bool = True
    progress_curve: CurveSpec = attrs.field(default="linear", converter=normalize_curve)
    rate_limit: float | None = attrs.field(default=10.0, validator=_positive)
    sync_threshold: int = attrs.field(default=100, validator=_non_negative)
    max_body: int = attrs.field(default=16 * 1024 * 1024, validator=_positive)


class LiveConfig:
    """The current ``SandboxConfig``; readers get a consistent snapshot, writers replace it."""

    def __init__(self, initial: SandboxConfig) -> None:
        self._lock = threading.Lock()
        self._current = initial

    @property
    def current(self) -> SandboxConfig:
        return self._current

    def update(self, **changes: Any) -> SandboxConfig:
        """Replace some knobs; an unknown name or a bad value raises ``ValueError``/``TypeError``."""
        known = {field.name for field in attrs.fields(SandboxConfig)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown sandbox setting(s) {unknown}; known: {sorted(known)}")
        with self._lock:
            self._current = attrs.evolve(self._current, **changes)
            return self._current
