"""The provider-neutral import job: one model and one state machine for every provider.

Models are frozen, keyword-only attrs classes with no I/O; adapters build them from payloads,
``convert`` turns them into the contract's JSON shape and back.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar

import attrs

from ._deferred import DeferredSlot, deferred_value
from ._fastinit import install_fast_init

__all__ = [
    "ImportJob",
    "JobError",
    "JobState",
    "RowOutcome",
    "RowResult",
    "TableImport",
    "settle_state",
]


class JobState(str, enum.Enum):
    """``pending -> running -> complete | partial | failed``; a job may skip ``running``."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Terminal states are absorbing: nothing moves a job out of them."""
        return self in _TERMINAL

    @property
    def rank(self) -> int:
        """Position along the machine: pending 0, running 1, any terminal state 2."""
        return _RANK[self]

    def can_move_to(self, other: JobState) -> bool:
        """Whether a job in this state may next be seen in ``other`` (staying put is allowed)."""
        return other is self or other in _LEGAL_MOVES[self]

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({JobState.COMPLETE, JobState.PARTIAL, JobState.FAILED})
_RANK = {JobState.PENDING: 0, JobState.RUNNING: 1, **{state: 2 for state in _TERMINAL}}
_LEGAL_MOVES: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.RUNNING, *_TERMINAL}),
    JobState.RUNNING: _TERMINAL,
    JobState.COMPLETE: frozenset(),
    JobState.PARTIAL: frozenset(),
    JobState.FAILED: frozenset(),
}


def settle_state(
    reported: JobState,
    *,
    succeeded: int | None,
    failed: int | None,
    job_error: bool = False,
) -> JobState:
    """Decide a terminal state by the counts, as the contract rules; the word only fills gaps.

    complete: every row landed (zero rows included); partial: some landed, some were rejected
    (or a job-level failure struck after some rows landed); failed: nothing landed.
    A count the provider did not give (None) is read from what its word implies, so a known
    count always wins over the word and the word never contradicts a known count. A job-level
    error with no ``succeeded`` count means nothing is known to have landed. Zero rows attempted
    and no error is complete, unless the provider itself said failed. Non-terminal states pass.
    """
    if not reported.is_terminal:
        return reported
    implied_landed, implied_rejected = _WORD_IMPLIES[reported]
    landed = (implied_landed and not job_error) if succeeded is None else succeeded > 0
    rejected = job_error or (implied_rejected if failed is None else failed > 0)
    if not (landed or rejected):
        return JobState.FAILED if reported is JobState.FAILED else JobState.COMPLETE
    return _BY_FACTS[landed, rejected]


# What a terminal word says when a count is missing: (some rows landed, some were rejected).
_WORD_IMPLIES: dict[JobState, tuple[bool, bool]] = {
    JobState.COMPLETE: (True, False),
    JobState.PARTIAL: (True, True),
    JobState.FAILED: (False, True),
}
_BY_FACTS: dict[tuple[bool, bool], JobState] = {
    (True, True): JobState.PARTIAL,
    (True, False): JobState.COMPLETE,
    (False, True): JobState.FAILED,
}


class RowOutcome(str, enum.Enum):
    """How one row of an import ended."""

    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


def _utc(value: datetime | None) -> datetime | None:
    """Keep every timestamp timezone-aware in UTC, so equality and JSON agree."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class InvalidField(ValueError):
    """A validator's complaint; carries the attribute's name so conversions can report its path."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name} {reason}")
        self.name = name
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.reason))


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidField(attribute.name, f"must be a non-negative int or None, got {value!r}")


def _fraction(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and 0.0 <= value <= 1.0)
    ):
        raise InvalidField(attribute.name, f"must be a number within 0.0 and 1.0, got {value!r}")


def _count() -> Any:
    return attrs.field(default=None, validator=_non_negative)


def _timestamp() -> Any:
    return attrs.field(default=None, converter=_utc)


@attrs.frozen(kw_only=True)
class JobError:
    """A failure with the provider's own code and message (either may be absent)."""

    code: str | None = None
    message: str | None = None


@attrs.frozen(kw_only=True)
class RowResult:
    """The outcome of one row. ``row`` is 1-based as the provider counts; ``data`` is the raw row."""

    row: int | None = attrs.field(default=None, validator=_non_negative)
    outcome: RowOutcome = attrs.field(validator=attrs.validators.instance_of(RowOutcome))
    record_id: str | None = None
    error: JobError | None = None
    data: Any = None
    table: str | None = None

    #: ``RowResult.of(row, outcome, record_id=None, error=None, data=None, table=None)``: the
    #: constructor's checks, positionally and without the keyword matching, for adapters that
    #: build one row per reported result (tens of thousands per payload).
    of: ClassVar[Callable[..., RowResult]]


@attrs.frozen(kw_only=True)
class TableImport:
    """One data table's part of an import (providers whose imports span tables)."""

    key: str
    source: str | None = None
    state: JobState = attrs.field(validator=attrs.validators.instance_of(JobState))
    provider_state: str
    progress: float | None = attrs.field(default=None, validator=_fraction)
    records: int | None = _count()
    error: JobError | None = None


def _row_tuple(
    rows: Iterable[RowResult] | Callable[[], Iterable[RowResult]],
) -> tuple[RowResult, ...]:
    """Accept any iterable of rows, or a builder of them called on first access (``_deferred``)."""
    if deferred_value(rows):
        return rows  # type: ignore[return-value]  # DeferredSlot turns it into the tuple
    return tuple(rows)  # type: ignore[arg-type]


def _table_tuple(tables: Iterable[TableImport]) -> tuple[TableImport, ...]:
    return tuple(tables)


@attrs.frozen(kw_only=True)
class ImportJob:
    """One import job, normalized. Field names and meanings are the contract's (docs/concepts.md).

    ``raw`` keeps the provider's payload for debugging; it takes no part in equality, repr or JSON.
    ``rows`` also accepts a zero-argument callable that returns the rows: it is called once, on
    the first read of ``job.rows``, so an adapter that has validated a large payload's rows
    defers building them (rows nobody reads cost nothing); everything else behaves the same.
    """

    provider: str
    id: str | None = None
    state: JobState = attrs.field(validator=attrs.validators.instance_of(JobState))
    provider_state: str
    total: int | None = _count()
    processed: int | None = _count()
    succeeded: int | None = _count()
    failed: int | None = _count()
    created: int | None = _count()
    updated: int | None = _count()
    duplicates: int | None = _count()
    skipped: int | None = _count()
    progress: float | None = attrs.field(default=None, validator=_fraction)
    created_at: datetime | None = _timestamp()
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp()
    expires_at: datetime | None = _timestamp()
    error: JobError | None = None
    rows: tuple[RowResult, ...] = attrs.field(default=(), converter=_row_tuple)
    rows_complete: bool = False
    tables: tuple[TableImport, ...] = attrs.field(default=(), converter=_table_tuple)
    mode: str | None = None
    file_name: str | None = None
    raw: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def done(self) -> bool:
        """True once the job is in a terminal state."""
        return self.state.is_terminal

    def failed_rows(self) -> Sequence[RowResult]:
        """The rejected rows known from this payload (a sample unless ``rows_complete``)."""
        return [row for row in self.rows if row.outcome is RowOutcome.FAILED]


# Construction is on the hot path (one RowResult per reported row): same checks, less overhead.
_PASSES = {
    _non_negative: "{v} is None or (type({v}) is int and {v} >= 0)",
    _fraction: "{v} is None or (type({v}) is float and 0.0 <= {v} <= 1.0)",
}
_UNCHANGED = {
    _utc: "{v} is None or (type({v}) is _datetime and {v}.tzinfo is _UTC)",
    _row_tuple: "type({v}) is tuple",
    _table_tuple: "type({v}) is tuple",
}
_NAMES = {"_datetime": datetime, "_UTC": timezone.utc}
for _model in (JobError, TableImport, ImportJob):
    install_fast_init(_model, passes=_PASSES, unchanged=_UNCHANGED, names=_NAMES)
RowResult.of = staticmethod(install_fast_init(RowResult, passes=_PASSES, names=_NAMES))
ImportJob.rows = DeferredSlot(ImportJob.rows)  # type: ignore[assignment]
