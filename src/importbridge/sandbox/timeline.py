"""How far a job has got, computed from the virtual clock whenever it is read.

A job is accepted, waits ``start_delay``, then processes its rows in order for ``total / speed``
virtual seconds, following its progress ``curve`` (steady by default; see ``curves``). Nothing
runs in the background: every status read asks the timeline "how many rows by now?", so
advancing the clock is all it takes to move jobs along.
"""

from __future__ import annotations

import enum
import math

import attrs

from .curves import CURVES, Curve, progress_at, time_at

__all__ = ["Phase", "Timeline"]


class Phase(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"


@attrs.frozen(kw_only=True)
class Timeline:
    """The schedule of one job: accepted at ``accepted_at``, starts at ``start_at``, runs for
    ``total / speed`` seconds along ``curve`` (points of a ``curves`` curve)."""

    accepted_at: float
    start_at: float
    total: int
    speed: float
    curve: Curve = CURVES["linear"]

    @classmethod
    def begin(
        cls, now: float, total: int, *, speed: float, delay: float, curve: Curve = CURVES["linear"]
    ) -> Timeline:
        """A job accepted at ``now`` that starts ``delay`` seconds later."""
        return cls(accepted_at=now, start_at=now + max(0.0, delay), total=total, speed=speed, curve=curve)

    @property
    def duration(self) -> float:
        return self.total / self.speed

    @property
    def finish_at(self) -> float:
        return self.start_at + self.duration

    def phase(self, now: float) -> Phase:
        if now >= self.finish_at:
            return Phase.FINISHED
        if now >= self.start_at:
            return Phase.RUNNING
        return Phase.PENDING

    def processed(self, now: float) -> int:
        """Rows processed by ``now`` (all of them once finished)."""
        phase = self.phase(now)
        if phase is Phase.FINISHED:
            return self.total
        if phase is Phase.PENDING:
            return 0
        done = progress_at(self.curve, (now - self.start_at) / self.duration)
        return min(self.total, math.floor(done * self.total + 1e-9))

    def reached_at(self, rows: int) -> float:
        """When the job had processed ``rows`` rows (its start for 0)."""
        if rows <= 0 or not self.total:
            return self.start_at
        return self.start_at + time_at(self.curve, min(1.0, rows / self.total)) * self.duration

    def started_at(self, now: float) -> float | None:
        return self.start_at if now >= self.start_at else None

    def finished_at(self, now: float) -> float | None:
        return self.finish_at if now >= self.finish_at else None
