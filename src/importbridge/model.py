"""The provider-neutral import job: one model and one state machine for every provider.

Models are frozen, keyword-only attrs classes with no I/O; adapters build them from payloads,
``convert`` turns them into the contract's JSON shape and back.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import itertools
import math
import operator
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar

import attrs

from ._deferred import DeferredSlot, deferred_value
from ._fastinit import install_fast_init
from .errors import InvalidJobError
from .jsontext import MAX_DEPTH
from .states import _TERMINAL, JobState, RowOutcome, settle_state

__all__ = [
    "ImportJob",
    "JobError",
    "JobState",
    "RowOutcome",
    "RowResult",
    "TableImport",
    "settle_state",
]


# -- what the model refuses ------------------------------------------------------------------

_MODEL = "importbridge"  # the "provider" an error names when a row, table or error is refused alone

# Pass-through data sits three levels into a job's JSON document (job, rows, row), and the
# document as a whole must stay within what ``from_json`` reads back.
_DATA_DEPTH = MAX_DEPTH - 3
# Integers ``json.dumps`` writes and ``json.loads`` reads back: Python's default int <-> str limit.
_INT_LIMIT = 10**sys.int_info.default_max_str_digits


def _refuse(instance: object, field: str, reason: str) -> InvalidJobError:
    """The error for ``field`` of ``instance``, naming the job's provider when it is a job."""
    provider = getattr(instance, "provider", None)
    return InvalidJobError(provider if isinstance(provider, str) else _MODEL, field, reason)


def _count(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(_, attribute.name, f"must be a non-negative int or None, got {_clip(value)}")
    if not 0 <= value < _INT_LIMIT:
        raise _refuse(_, attribute.name, f"must be a non-negative int JSON can carry, got {_clip(value)}")


def _fraction(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and 0.0 <= value <= 1.0)
    ):
        raise _refuse(_, attribute.name, f"must be a number within 0.0 and 1.0, got {_clip(value)}")


def _text(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str):
        raise _refuse(_, attribute.name, f"must be a str, got {_clip(value)}")


def _optional_text(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not isinstance(value, str):
        raise _refuse(_, attribute.name, f"must be a str or None, got {_clip(value)}")


def _flag(_: Any, attribute: attrs.Attribute[Any], value: bool) -> None:
    if not isinstance(value, bool):
        raise _refuse(_, attribute.name, f"must be a bool, got {_clip(value)}")


def _one_of(kind: type) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise _refuse(_, attribute.name, f"must be a {kind.__name__}, got {_clip(value)}")

    return check


def _optional_error(_: Any, attribute: attrs.Attribute[Any], value: JobError | None) -> None:
    if value is not None and not isinstance(value, JobError):
        raise _refuse(_, attribute.name, f"must be a JobError or None, got {_clip(value)}")


def _to_utc(value: Any) -> Any:
    """An aware datetime in UTC, so equality and JSON agree; anything else is left to ``_aware``."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:  # 0001-01-01 at +01:00 has no UTC date: ``_aware`` says so
            return value
    return value


def _aware(_: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is None or (isinstance(value, datetime) and value.tzinfo is timezone.utc):
        return
    if not isinstance(value, datetime):
        reason = f"must be a timezone-aware datetime or None, got {_clip(value)}"
    elif value.utcoffset() is None:
        reason = f"is naive ({value.isoformat()}): give it a time zone, it is never guessed"
    else:
        reason = f"{value.isoformat()} is out of range in UTC"
    raise _refuse(_, attribute.name, reason)


def _clip(value: object) -> str:
    """A value for an error message: its type and a clipped repr."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int past the str limit, a list nested too deep
        text = "..."
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _json_problem(value: object, room: int) -> tuple[str, str] | None:
    """Why ``value`` is not plain JSON that round-trips, as (path below it, reason), or None.

    Plain JSON: dicts with str keys, lists, str, bool, None, ints ``json.dumps`` writes, finite
    floats, nested at most ``room`` containers deep. Scalars inside a container are tested
    inline, so a flat row costs one call.
    """
    if isinstance(value, dict):
        if room <= 0:
            return "", f"nested deeper than {_DATA_DEPTH} levels"
        for key, item in value.items():
            kind = type(item)
            if type(key) is str and (kind is str or item is None or kind is bool):
                continue  # the common case, inline
            if not isinstance(key, str):
                return "", f"has a key that is not a str: {_clip(key)}"
            problem = _json_problem(item, room - 1)
            if problem is not None:
                return f".{key}{problem[0]}", problem[1]
        return None
    if isinstance(value, list):
        if room <= 0:
            return "", f"nested deeper than {_DATA_DEPTH} levels"
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str or item is None or kind is bool:
                continue
            problem = _json_problem(item, room - 1)
            if problem is not None:
                return f"[{index}]{problem[0]}", problem[1]
        return None
    return _scalar_problem(value)


def _scalar_problem(value: object) -> tuple[str, str] | None:
    if value is None or isinstance(value, (str, bool)):
        return None
    if isinstance(value, int):
        return None if -_INT_LIMIT < value < _INT_LIMIT else ("", "is an integer too long for JSON")
    if isinstance(value, float):
        return None if math.isfinite(value) else ("", f"{value!r} is not a JSON number")
    return "", f"{type(value).__name__} is not a JSON value (dict, list, str, number, bool or None)"


@attrs.frozen(kw_only=True)
class JobError:
    """A failure with the provider's own code and message (either may be absent)."""

    code: str | None = attrs.field(default=None, validator=_optional_text)
    message: str | None = attrs.field(default=None, validator=_optional_text)


@attrs.frozen(kw_only=True)
class RowResult:
    """The outcome of one row. ``row`` is 1-based as the provider counts; ``data`` is the raw row.

    ``data`` must be plain JSON (finite numbers, str keys, bounded depth); it is checked when the
    row joins an ``ImportJob``, so the error names the job's provider and the row.
    """

    row: int | None = attrs.field(default=None, validator=_count)
    outcome: RowOutcome = attrs.field(validator=_one_of(RowOutcome))
    record_id: str | None = attrs.field(default=None, validator=_optional_text)
    error: JobError | None = attrs.field(default=None, validator=_optional_error)
    data: Any = None
    table: str | None = attrs.field(default=None, validator=_optional_text)

    #: ``RowResult.of(row, outcome, record_id=None, error=None, data=None, table=None)``: the
    #: constructor's checks, positionally and without the keyword matching, for adapters that
    #: build one row per reported result (tens of thousands per payload).
    of: ClassVar[Callable[..., RowResult]]

    @staticmethod
    def of_columns(
        row: Iterable[int | None],
        outcome: Iterable[RowOutcome],
        record_id: Iterable[str | None] | None = None,
        error: Iterable[JobError | None] | None = None,
        data: Iterable[Any] | None = None,
        table: Iterable[str | None] | None = None,
    ) -> list[RowResult]:
        """``list(map(RowResult.of, row, outcome, record_id, error, data, table))``: the same rows,
        checks and errors, built a block at a time (a streamed export's thousands of rows).

        Each argument is a column: an iterable with one value per row, or
        ``itertools.repeat(value)`` for a value every row shares (``None`` stands for
        ``repeat(None)``). Columns are zipped as ``map`` zips them, to the shortest.
        """
        return _of_columns((row, outcome, record_id, error, data, table))


@attrs.frozen(kw_only=True)
class TableImport:
    """One data table's part of an import (providers whose imports span tables)."""

    key: str = attrs.field(validator=_text)
    source: str | None = attrs.field(default=None, validator=_optional_text)
    state: JobState = attrs.field(validator=_one_of(JobState))
    provider_state: str = attrs.field(validator=_text)
    progress: float | None = attrs.field(default=None, validator=_fraction)
    records: int | None = attrs.field(default=None, validator=_count)
    error: JobError | None = attrs.field(default=None, validator=_optional_error)

    #: ``TableImport.of(key=..., state=..., ...)``: the constructor (same keywords, checks and
    #: errors) as a plain function, without the type call (see ``ImportJob.of``).
    of: ClassVar[Callable[..., TableImport]]


def _row_tuple(
    rows: Iterable[RowResult] | Callable[[], Iterable[RowResult]],
) -> tuple[RowResult, ...]:
    """Accept any iterable of rows, or a builder of them called on first access (``_deferred``)."""
    if deferred_value(rows):
        return rows  # type: ignore[return-value]  # DeferredSlot turns it into the tuple
    return tuple(rows)  # type: ignore[arg-type]


def _table_tuple(tables: Iterable[TableImport]) -> tuple[TableImport, ...]:
    return tuple(tables) if isinstance(tables, Iterable) else tables


def _rows(job: Any, attribute: attrs.Attribute[Any], rows: tuple[RowResult, ...]) -> None:
    """Every entry is a RowResult whose ``data`` is plain JSON (checked here, where the job's
    provider is known; ``None``, a str or a flat record of strings are tested inline). Rows
    built on first access (``_deferred``) are checked then, by the same function."""
    if deferred_value(rows):
        return
    if type(rows) is not tuple:
        raise _refuse(job, "rows", f"must be an iterable of RowResult, got {_clip(rows)}")
    for index, row in enumerate(rows):
        if type(row) is not RowResult and not isinstance(row, RowResult):
            raise _refuse(job, f"rows[{index}]", f"must be a RowResult, got {_clip(row)}")
        data = row.data
        if data is None or type(data) is str:
            continue
        if type(data) is dict:  # a flat record of strings, the usual row: no call
            for key, item in data.items():
                kind = type(item)
                if type(key) is not str or not (kind is str or item is None or kind is bool):
                    break
            else:
                continue
        problem = _json_problem(data, _DATA_DEPTH)
        if problem is not None:
            raise _refuse(job, f"rows[{index}].data{problem[0]}", problem[1])


def _tables(job: Any, attribute: attrs.Attribute[Any], tables: tuple[TableImport, ...]) -> None:
    if type(tables) is not tuple:
        raise _refuse(job, "tables", f"must be an iterable of TableImport, got {_clip(tables)}")
    for index, table in enumerate(tables):
        if not isinstance(table, TableImport):
            raise _refuse(job, f"tables[{index}]", f"must be a TableImport, got {_clip(table)}")


def _counts() -> Any:
    return attrs.field(default=None, validator=_count)


def _timestamp() -> Any:
    return attrs.field(default=None, converter=_to_utc, validator=_aware)


@attrs.frozen(kw_only=True)
class ImportJob:
    """One import job, normalized. Field names and meanings are the contract's (docs/concepts.md).

    ``raw`` keeps the provider's payload for debugging; it takes no part in equality, repr or JSON.
    The constructor refuses any job the contract does not allow (``InvalidJobError`` naming the
    field): wrong types, naive timestamps, counts that contradict each other, a terminal state
    the terminal rule does not give for the counts and error, rows' data that is not plain JSON.

    ``rows`` also accepts a zero-argument callable that returns the rows: it is called once, on
    the first read of ``job.rows``, so an adapter that has validated a large payload's rows
    defers building them (rows nobody reads cost nothing); everything else behaves the same.
    """

    provider: str = attrs.field(validator=_text)
    id: str | None = attrs.field(default=None, validator=_optional_text)
    state: JobState = attrs.field(validator=_one_of(JobState))
    provider_state: str = attrs.field(validator=_text)
    total: int | None = _counts()
    processed: int | None = _counts()
    succeeded: int | None = _counts()
    failed: int | None = _counts()
    created: int | None = _counts()
    updated: int | None = _counts()
    duplicates: int | None = _counts()
    skipped: int | None = _counts()
    progress: float | None = attrs.field(default=None, validator=_fraction)
    created_at: datetime | None = _timestamp()
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp()
    expires_at: datetime | None = _timestamp()
    error: JobError | None = attrs.field(default=None, validator=_optional_error)
    rows: tuple[RowResult, ...] = attrs.field(default=(), converter=_row_tuple, validator=_rows)
    rows_complete: bool = attrs.field(default=False, validator=_flag)
    tables: tuple[TableImport, ...] = attrs.field(default=(), converter=_table_tuple, validator=_tables)
    mode: str | None = attrs.field(default=None, validator=_optional_text)
    file_name: str | None = attrs.field(default=None, validator=_optional_text)
    raw: Any = attrs.field(default=None, eq=False, repr=False)

    #: ``ImportJob.of(provider=..., state=..., ...)``: the constructor (same keywords, checks and
    #: errors) as a plain function, for adapters: it skips the type call, which hands
    #: ``__init__`` its keywords as a fresh dict (a third of building a job, once per poll).
    of: ClassVar[Callable[..., ImportJob]]

    def __attrs_post_init__(self) -> None:
        """The rules between fields: counts agree with each other, the state with the counts."""
        if attrs.validators.get_disabled():
            return
        parts = (self.created or 0) + (self.updated or 0) + (self.duplicates or 0) + (self.skipped or 0)
        problem = _job_problem(
            self.total, self.processed, self.succeeded, self.failed, parts, self.state, self.error
        )
        if problem is not None:
            raise InvalidJobError(self.provider, *problem)

    @property
    def done(self) -> bool:
        """True once the job is in a terminal state."""
        return self.state.is_terminal

    def failed_rows(self) -> Sequence[RowResult]:
        """The rejected rows known from this payload (a sample unless ``rows_complete``)."""
        return [row for row in self.rows if row.outcome is RowOutcome.FAILED]


def _job_problem(
    total: int | None,
    processed: int | None,
    succeeded: int | None,
    failed: int | None,
    parts: int,
    state: JobState,
    error: JobError | None,
) -> tuple[str, str] | None:
    """The rules between a job's fields, as (field, reason), or None when it keeps them all.

    Counts agree where known: ``parts`` (created + updated + duplicates + skipped) <= succeeded,
    succeeded + failed <= processed <= total, an unknown count bounded below by the known ones
    it sums. A terminal state is one ``settle_state`` gives for the counts and the error.
    Called with the constructor's locals by the fast ``__init__`` (a job is built every poll).
    """
    if succeeded is None:
        attempted = parts + (failed or 0)
    elif parts > succeeded:
        breakdown = "created + updated + duplicates + skipped"
        return "succeeded", f"{breakdown} = {parts} exceeds succeeded = {succeeded}"
    else:
        attempted = succeeded + (failed or 0)
    if processed is not None:
        if attempted > processed:
            what = "succeeded + failed (where known)"
            return "processed", f"{what} = {attempted} exceeds processed = {processed}"
        reached, what = processed, "processed"
    else:
        reached, what = attempted, "succeeded + failed (where known)"
    if total is not None and reached > total:
        return "total", f"{what} = {reached} exceeds total = {total}"
    if state not in _TERMINAL:
        return None
    facts = (
        None if succeeded is None else succeeded > 0,
        None if failed is None else failed > 0,
        error is not None,
    )
    if state in _SETTLED[facts]:
        return None
    allowed = " or ".join(sorted(member.value for member in _SETTLED[facts]))
    return "state", (
        f"{state.value} contradicts the counts (succeeded={succeeded}, failed={failed}, "
        f"error {'present' if error is not None else 'absent'}): the terminal rule gives {allowed}"
    )


def _settled_states() -> dict[tuple[bool | None, bool | None, bool], frozenset[JobState]]:
    """For each (rows landed?, rows rejected?, job error?) fact, the terminal states
    ``settle_state`` can give from some terminal word. A count the job does not know (``None``)
    may be anything, or left to the word; a job-level failure may stand without an ``error``
    (a provider's word alone can say it), but an ``error`` is always one."""
    examples: dict[bool | None, tuple[int | None, ...]] = {None: (None, 0, 1), False: (0,), True: (1,)}
    return {
        (landed, rejected, has_error): frozenset(
            settle_state(word, succeeded=succeeded, failed=failed, job_error=flag)
            for word in _TERMINAL
            for succeeded in examples[landed]
            for failed in examples[rejected]
            for flag in ((True,) if has_error else (False, True))
        )
        for landed in (None, False, True)
        for rejected in (None, False, True)
        for has_error in (False, True)
    }


_SETTLED = _settled_states()


# Construction is on the hot path (one RowResult per reported row): same checks, less overhead.
# Each expression is true only when its validator would pass (or its converter return the value).
_OPTIONAL_TEXT = "{v} is None or type({v}) is str"
_PASSES = {
    _count: "{v} is None or (type({v}) is int and 0 <= {v} < _INT_LIMIT)",
    _fraction: "{v} is None or (type({v}) is float and 0.0 <= {v} <= 1.0)",
    _text: "type({v}) is str",
    _optional_text: _OPTIONAL_TEXT,
    _flag: "type({v}) is bool",
    _optional_error: "{v} is None or type({v}) is _JobError",
    _aware: "{v} is None or (type({v}) is _datetime and {v}.tzinfo is _UTC)",
    RowResult.__attrs_attrs__.outcome.validator: "type({v}) is _RowOutcome",
    ImportJob.__attrs_attrs__.state.validator: "type({v}) is _JobState",
    TableImport.__attrs_attrs__.state.validator: "type({v}) is _JobState",
    _rows: "{v} == ()",
    _tables: "{v} == ()",
}
_UNCHANGED = {
    _to_utc: "{v} is None or (type({v}) is _datetime and {v}.tzinfo is _UTC)",
    _row_tuple: "type({v}) is tuple",
    _table_tuple: "type({v}) is tuple",
}
_NAMES = {
    "_datetime": datetime,
    "_UTC": timezone.utc,
    "_INT_LIMIT": _INT_LIMIT,
    "_JobError": JobError,
    "_JobState": JobState,
    "_RowOutcome": RowOutcome,
}
install_fast_init(JobError, passes=_PASSES, unchanged=_UNCHANGED, names=_NAMES)
TableImport.of = staticmethod(
    install_fast_init(TableImport, passes=_PASSES, unchanged=_UNCHANGED, names=_NAMES, keyword_only=True)
)
ImportJob.of = staticmethod(
    install_fast_init(
        ImportJob,
        passes=_PASSES,
        unchanged=_UNCHANGED,
        names={**_NAMES, "_job_problem": _job_problem},
        post_init_passes=(
            "_job_problem(total, processed, succeeded, failed,"
            " (created or 0) + (updated or 0) + (duplicates or 0) + (skipped or 0), state, error) is None"
        ),
        keyword_only=True,
    )
)
RowResult.of = staticmethod(install_fast_init(RowResult, passes=_PASSES, names=_NAMES))


# -- rows a block at a time -------------------------------------------------------------------
# Storing through the slot descriptors from C (``map`` over each field's setter) skips a Python
# frame per row; each column is checked from C too (the set of its value types, the range of its
# ints). A column that is not plainly valid sends the block through ``RowResult.of`` row by row,
# which gives exactly its errors (or its rows, when validators are disabled).
_ROW_SLOTS = tuple(getattr(RowResult, field.name).__set__ for field in attrs.fields(RowResult))
_NONE = type(None)
_COLUMN_TYPES: tuple[frozenset[type] | None, ...] = (
    frozenset({int, _NONE}),  # row: ints also checked for range below
    frozenset({RowOutcome}),
    frozenset({str, _NONE}),
    frozenset({JobError, _NONE}),
    None,  # data: checked when the row joins a job
    frozenset({str, _NONE}),
)
_not_none = functools.partial(operator.is_not, None)
_drain: Callable[[Iterable[Any]], None] = collections.deque(maxlen=0).extend


def _of_columns(columns: tuple[Iterable[Any] | None, ...]) -> list[RowResult]:
    shared: list[tuple[Any, ...]] = []  # per column: (value,) for one every row shares, else ()
    lists: list[list[Any]] = []
    lengths: list[int] = []
    for column in columns:
        if column is None:
            shared.append((None,))
            lists.append([])
        elif type(column) is itertools.repeat:
            with contextlib.suppress(TypeError):  # an endless repeat has no length
                lengths.append(column.__length_hint__())
            value = next(column, _NOTHING)
            if value is _NOTHING:
                return []
            shared.append((value,))
            lists.append([])
        else:
            values = column if type(column) is list else list(column)
            shared.append(())
            lists.append(values)
            lengths.append(len(values))
    if not lengths:
        raise ValueError("RowResult.of_columns: every column repeats forever; give one with an end")
    count = min(lengths)
    lists = [
        values if len(values) == count or kept else values[:count]
        for kept, values in zip(shared, lists, strict=True)
    ]
    if not _plainly_valid(shared, lists):
        given = (
            itertools.repeat(kept[0], count) if kept else values
            for kept, values in zip(shared, lists, strict=True)
        )
        return list(map(RowResult.of, *given))
    built = list(map(object.__new__, itertools.repeat(RowResult, count)))
    for store, kept, values in zip(_ROW_SLOTS, shared, lists, strict=True):
        _drain(map(store, built, itertools.repeat(kept[0]) if kept else values))
    return built


def _plainly_valid(shared: list[tuple[Any, ...]], lists: list[list[Any]]) -> bool:
    """Whether every value passes its field's validator, seen from C (a column of exact types)."""
    found: list[set[type]] = []  # the types in each checked column, the row numbers' first
    for allowed, kept, values in zip(_COLUMN_TYPES, shared, lists, strict=True):
        if allowed is not None:
            found.append(set(map(type, kept or values)))
            if not found[-1] <= allowed:
                return False
    rows: Sequence[Any] = shared[0] or lists[0]
    if _NONE in found[0]:
        rows = list(filter(_not_none, rows))
    return not rows or bool(min(rows) >= 0 and max(rows) < _INT_LIMIT)


_NOTHING = object()
ImportJob.rows = DeferredSlot(  # type: ignore[assignment]
    ImportJob.rows, check=lambda job, rows: _rows(job, attrs.fields(ImportJob).rows, rows)
)

#: The name this error had before it joined the exception tree (``importbridge.model`` only).
InvalidField = InvalidJobError
