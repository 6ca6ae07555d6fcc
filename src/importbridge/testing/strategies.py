"""Hypothesis strategies for importbridge: valid jobs, and payloads broken on purpose.

Two families, both public so plugin authors can reuse them in their own tests:

- ``import_jobs()`` and its parts (``row_results()``, ``table_imports()``, ``job_errors()``,
  ``datetimes()``, ``json_values()``) build arbitrary *valid* ``ImportJob`` objects (consistent
  counts, the state the terminal rule gives, aware timestamps, strict JSON data), for round-trip
  properties of anything that stores or sends jobs. ``impossible_jobs()`` builds the keyword
  arguments of jobs the model must refuse, with the field its error names.
- ``dropped_keys(payload)``, ``replaced_values(payload)``, ``wrong_numbers(payload)``,
  ``extra_fields(payload)``, ``unknown_status_words(payload, words)``, ``non_objects()``,
  ``hostile_values(payload)``, ``hostile_json_text(payload)``, ``invalid_utf8(payload)`` and
  ``truncated_json(payload)`` derive *bad* payloads from a good one, and ``recounted(payload)``
  plausible ones with other counts, for the conformance suite's fuzzing. They never touch the
  payload they are given.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from importbridge import ImportJob, JobError, JobState, RowOutcome, RowResult, TableImport, settle_state
from importbridge.jsontext import MAX_DEPTH

__all__ = [
    "EXTRA_KEY_PREFIX",
    "MAX_NESTING",
    "NOT_JSON_TOKENS",
    "Path",
    "datetimes",
    "dropped_keys",
    "extra_fields",
    "hostile_json_text",
    "hostile_texts",
    "hostile_values",
    "impossible_jobs",
    "import_jobs",
    "integer_paths",
    "invalid_utf8",
    "job_errors",
    "json_values",
    "node_paths",
    "non_objects",
    "number_swaps",
    "optional_integer_keys",
    "provider_names",
    "recounted",
    "replace_at",
    "replace_word_everywhere",
    "replaced_values",
    "row_results",
    "table_imports",
    "truncated_json",
    "unknown_status_words",
    "without_keys",
    "wrong_number_swaps",
    "wrong_numbers",
    "wrong_values",
]

Path = tuple[str | int, ...]

# Keys added by ``extra_fields``: distinctive, so they never collide with a real field name.
EXTRA_KEY_PREFIX = "x-importbridge-extra-"

# -- valid jobs -------------------------------------------------------------------------------


# Strings a provider may send that not every output can encode: lone surrogates (JSON's
# ``"\ud800"``), NUL, line and paragraph separators.
_AWKWARD_TEXT = ("\ud800", "a\udfffb", "\x00", "\u2028\u2029", "\U0001f600")


def _strings(max_size: int) -> st.SearchStrategy[str]:
    return st.text(max_size=max_size) | st.sampled_from(_AWKWARD_TEXT)


def json_values(*, max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON value as ``json.loads`` returns it (finite floats, str keys, any strings)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | _strings(20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(_strings(10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def provider_names() -> st.SearchStrategy[str]:
    """Names the registry accepts: ``[a-z][a-z0-9_-]*``."""
    return st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)


def _timezones() -> st.SearchStrategy[Any]:
    offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    return st.just(timezone.utc) | offsets | st.timezones()


def datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes in any time zone, with microseconds (the model refuses naive ones)."""
    return st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(2999, 12, 30),
        timezones=_timezones(),
    )


def _optional_text() -> st.SearchStrategy[str | None]:
    return st.none() | _strings(30)


def _counts() -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(min_value=0, max_value=2**63)


def _fractions() -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(min_value=0.0, max_value=1.0)


def job_errors() -> st.SearchStrategy[JobError]:
    """A job- or row-level error; code and message may each be absent."""
    return st.builds(JobError, code=_optional_text(), message=_optional_text())


def row_results() -> st.SearchStrategy[RowResult]:
    """One row outcome with arbitrary JSON ``data``."""
    return st.builds(
        RowResult,
        row=st.none() | st.integers(min_value=0, max_value=2**31),
        outcome=st.sampled_from(RowOutcome),
        record_id=_optional_text(),
        error=st.none() | job_errors(),
        data=json_values(),
        table=_optional_text(),
    )


def table_imports() -> st.SearchStrategy[TableImport]:
    """One table's part of an import."""
    return st.builds(
        TableImport,
        key=st.text(max_size=20),
        source=_optional_text(),
        state=st.sampled_from(JobState),
        provider_state=st.text(max_size=20),
        progress=_fractions(),
        records=_counts(),
        error=st.none() | job_errors(),
    )


# Each count drawn on top of the ones it must cover stays below 2**58, so sums fit 64 bits.
_PART = st.integers(min_value=0, max_value=2**58)


@st.composite
def _consistent_counts(draw: st.DrawFn) -> dict[str, int | None]:
    """The eight counts, each known or not, agreeing where known (drawn bottom up)."""

    def maybe(value: int) -> int | None:
        return value if draw(st.booleans()) else None

    parts = {name: maybe(draw(_PART)) for name in ("created", "updated", "duplicates", "skipped")}
    landed = sum(value or 0 for value in parts.values()) + draw(_PART)
    failed = draw(st.none() | _PART)
    processed = landed + (failed or 0) + draw(_PART)
    total = processed + draw(_PART)
    return {
        **parts,
        "succeeded": maybe(landed),
        "failed": failed,
        "processed": maybe(processed),
        "total": maybe(total),
    }


@st.composite
def _job_fields(draw: st.DrawFn, provider: str | None = None) -> dict[str, Any]:
    """Keyword arguments of a valid job: the state is what the terminal rule gives."""
    counts = draw(_consistent_counts())
    error = draw(st.none() | job_errors())
    state = draw(st.sampled_from(JobState))
    if state.is_terminal:  # as an adapter settles it: some word, a job-level failure or not
        failure = error is not None or draw(st.booleans())
        state = settle_state(state, succeeded=counts["succeeded"], failed=counts["failed"], job_error=failure)
    return {
        "provider": provider if provider is not None else draw(provider_names()),
        "id": draw(_optional_text()),
        "state": state,
        "provider_state": draw(_strings(20)),
        **counts,
        "progress": draw(_fractions()),
        **{
            name: draw(st.none() | datetimes())
            for name in ("created_at", "started_at", "finished_at", "updated_at", "expires_at")
        },
        "error": error,
        "rows": draw(st.lists(row_results(), max_size=4)),
        "rows_complete": draw(st.booleans()),
        "tables": draw(st.lists(table_imports(), max_size=3)),
        "mode": draw(_optional_text()),
        "file_name": draw(_optional_text()),
        "raw": draw(json_values(max_leaves=4)),
    }


def import_jobs(*, provider: str | None = None) -> st.SearchStrategy[ImportJob]:
    """Arbitrary valid jobs: every field exercised, ``raw`` holding any JSON (it is never compared)."""
    return _job_fields(provider).map(lambda fields: ImportJob(**fields))


def _alternating(depth: int) -> Any:
    """A value nested ``depth`` deep, objects and arrays by turns."""
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


# One way to break each rule: (field, value, the path the error names).
_BROKEN: tuple[tuple[str, Any, str], ...] = (
    ("total", -1, "total"),
    ("processed", True, "processed"),
    ("succeeded", 3.0, "succeeded"),
    ("failed", "2", "failed"),
    ("skipped", 10**4300, "skipped"),  # more digits than JSON text carries back
    ("progress", 1.5, "progress"),
    ("progress", float("nan"), "progress"),
    ("progress", float("inf"), "progress"),
    ("created_at", datetime(2024, 1, 1), "created_at"),  # naive
    ("expires_at", "2024-01-01T00:00:00Z", "expires_at"),
    ("provider", 5, "provider"),
    ("provider_state", None, "provider_state"),
    ("id", 42, "id"),
    ("mode", b"UPDATE", "mode"),
    ("state", "complete", "state"),
    ("rows_complete", 1, "rows_complete"),
    ("error", "boom", "error"),
    ("rows", [{"outcome": "failed"}], "rows[0]"),
    ("tables", ["deals"], "tables[0]"),
)

# Whole rows whose pass-through data is not strict JSON: (data, the path below ``rows[0].data``).
_BAD_DATA: tuple[tuple[Any, str], ...] = (
    (float("nan"), ""),
    ({"amount": float("inf")}, ".amount"),
    ({"deep": [1e308, -float("inf")]}, ".deep[1]"),
    ({1: "x"}, ""),
    ((1, 2), ""),
    ({"when": datetime(2024, 1, 1, tzinfo=timezone.utc)}, ".when"),
    (10**5000, ""),
    (_alternating(MAX_DEPTH), ""),
)


def impossible_jobs() -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """(keyword arguments, field path): a job ``ImportJob`` must refuse, with an error whose
    ``path`` starts with that path (a too-deep value is named where its depth ran out).

    Starts from a valid job and breaks one rule: a wrong type or range, a naive timestamp, counts
    that contradict each other, a terminal state the counts rule out, rows' data that is not JSON.
    """

    def broken_field(fields: dict[str, Any], case: tuple[str, Any, str]) -> tuple[dict[str, Any], str]:
        name, value, path = case
        return {**fields, name: value}, path

    def bad_data(fields: dict[str, Any], case: tuple[Any, str], at: int) -> tuple[dict[str, Any], str]:
        data, below = case
        rows = list(fields["rows"])
        rows.insert(min(at, len(rows)), RowResult(row=1, outcome=RowOutcome.FAILED, data=data))
        return {**fields, "rows": rows}, f"rows[{min(at, len(rows) - 1)}].data{below}"

    def too_many(fields: dict[str, Any], count: int, pair: tuple[str, str]) -> tuple[dict[str, Any], str]:
        lower, upper = pair  # ``lower`` must not exceed ``upper``; the error names ``upper``
        return {**_unknown_counts(fields), lower: count + 1, upper: count}, upper

    def contradicted(fields: dict[str, Any], landed: int, state: JobState) -> tuple[dict[str, Any], str]:
        # rows rejected and none landed can only be failed; rows landed and none rejected, with
        # no job-level error, only complete or partial
        if state is JobState.FAILED:
            return {**_unknown_counts(fields), "state": state, "succeeded": landed + 1, "failed": 0}, "state"
        return {**_unknown_counts(fields), "state": state, "succeeded": 0, "failed": landed + 1}, "state"

    valid = _job_fields()
    pairs = st.sampled_from(
        [("succeeded", "total"), ("failed", "processed"), ("processed", "total"), ("created", "succeeded")]
    )
    return st.one_of(
        st.builds(broken_field, valid, st.sampled_from(_BROKEN)),
        st.builds(bad_data, valid, st.sampled_from(_BAD_DATA), st.integers(min_value=0, max_value=4)),
        st.builds(too_many, valid, _PART, pairs),
        st.builds(contradicted, valid, _PART, st.sampled_from(sorted(_TERMINAL_STATES))),
    )


_TERMINAL_STATES = frozenset(state for state in JobState if state.is_terminal)


def _unknown_counts(fields: dict[str, Any]) -> dict[str, Any]:
    counts = ("total", "processed", "succeeded", "failed", "created", "updated", "duplicates", "skipped")
    return {**fields, **dict.fromkeys(counts), "state": JobState.RUNNING}


# -- bad payloads -----------------------------------------------------------------------------


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every node below ``value``: dict keys and list indexes, depth first."""
    if isinstance(value, dict):
        items: Iterator[tuple[str | int, Any]] = iter(value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        path = (*prefix, key)
        yield path
        yield from _paths(child, path)


def _key_paths(value: Any) -> list[Path]:
    return [path for path in _paths(value) if isinstance(_parent(value, path), dict)]


def _parent(value: Any, path: Path) -> Any:
    for step in path[:-1]:
        value = value[step]
    return value


def _get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def _with(payload: Any, path: Path, new: Any) -> Any:
    """A deep copy of ``payload`` with the node at ``path`` replaced by ``new``."""
    result = copy.deepcopy(payload)
    _parent(result, path)[path[-1]] = new
    return result


def _without(payload: Any, paths: Collection[Path]) -> Any:
    """A deep copy of ``payload`` without the dict keys at ``paths`` (deepest first)."""
    result = copy.deepcopy(payload)
    for path in sorted(paths, key=len, reverse=True):
        parent = _parent(result, path)
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return result


def dropped_keys(payload: Any) -> st.SearchStrategy[Any]:
    """``payload`` with one to three keys removed, at any depth."""
    paths = _key_paths(payload)
    if not paths:
        return st.nothing()
    chosen = st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True)
    return chosen.map(lambda picked: _without(payload, picked))


def wrong_values() -> st.SearchStrategy[Any]:
    """Values of the wrong kind for most fields: bools, odd numbers, strings, containers, null."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(max_value=-1),
        st.integers(min_value=2**53),
        st.floats(),  # NaN and infinities included: json.loads accepts them
        st.text(max_size=12),
        st.integers().map(str),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


def replaced_values(payload: Any) -> st.SearchStrategy[Any]:
    """``payload`` with one node (leaf or container, any depth) replaced by a wrong value."""
    paths = list(_paths(payload))
    if not paths:
        return st.nothing()
    return st.builds(lambda path, new: _with(payload, path, new), st.sampled_from(paths), wrong_values())


def number_swaps(number: int) -> st.SearchStrategy[Any]:
    """What a sloppy sender puts where ``number`` belongs: bools, floats, negatives, huge ints..."""
    return st.one_of(
        st.booleans(),
        st.just(number + 0.5),
        st.just(float(number)),
        st.just(-number - 1),
        st.integers(max_value=-1),
        st.integers(min_value=2**63),
        st.just(str(number)),
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    )


def node_paths(payload: Any) -> list[Path]:
    """Every node of ``payload`` (object members and array entries, any depth), as paths of keys
    and indexes, depth first."""
    return list(_paths(payload))


def integer_paths(payload: Any) -> list[Path]:
    """Where ``payload`` holds an integer (bools excluded), as paths of keys and indexes."""
    return [
        path
        for path in _paths(payload)
        if isinstance(_get(payload, path), int) and not isinstance(_get(payload, path), bool)
    ]


def replace_at(payload: Any, path: Path, new: Any) -> Any:
    """A deep copy of ``payload`` with the node at ``path`` (a non-empty path) set to ``new``."""
    return _with(payload, path, new)


def wrong_number_swaps(payload: Any) -> st.SearchStrategy[tuple[Path, Any]]:
    """(path, value): an integer leaf of ``payload`` and what to put there instead."""
    paths = integer_paths(payload)
    if not paths:
        return st.nothing()
    return st.sampled_from(paths).flatmap(
        lambda path: number_swaps(_get(payload, path)).map(lambda new: (path, new))
    )


def wrong_numbers(payload: Any) -> st.SearchStrategy[Any]:
    """``payload`` with one integer leaf swapped for a bool, a float, a negative or huge number..."""
    return wrong_number_swaps(payload).map(lambda swap: _with(payload, *swap))


def extra_fields(payload: Any) -> st.SearchStrategy[Any]:
    """``payload`` with one unknown key (named ``EXTRA_KEY_PREFIX...``) added to one of its objects."""
    objects: list[Path] = [()] if isinstance(payload, dict) else []
    objects += [path for path in _paths(payload) if isinstance(_get(payload, path), dict)]
    if not objects:
        return st.nothing()

    def add(path: Path, suffix: str, value: Any) -> Any:
        result = copy.deepcopy(payload)
        _get(result, path)[EXTRA_KEY_PREFIX + suffix] = value
        return result

    return st.builds(add, st.sampled_from(objects), st.text(max_size=8), json_values(max_leaves=4))


def _unknown_words(words: Collection[str]) -> st.SearchStrategy[str]:
    known = {word.strip().casefold() for word in words}
    return st.text(max_size=20).filter(lambda word: word.strip().casefold() not in known)


def unknown_status_words(payload: Any, words: Collection[str]) -> st.SearchStrategy[Any]:
    """``payload`` with one string leaf that is a known status word replaced by an unknown word."""
    paths = [path for path in _paths(payload) if isinstance(_get(payload, path), str)]
    paths = [path for path in paths if _get(payload, path) in words]
    if not paths:
        return st.nothing()
    replace = st.sampled_from(paths)
    return st.builds(lambda path, new: _with(payload, path, new), replace, _unknown_words(words))


def replace_word_everywhere(payload: Any, word: str, new: str) -> Any:
    """A deep copy of ``payload`` with every string leaf equal to ``word`` set to ``new``."""
    result = copy.deepcopy(payload)
    for path in list(_paths(result)):
        if _get(result, path) == word:
            _parent(result, path)[path[-1]] = new
    return result


def non_objects() -> st.SearchStrategy[Any]:
    """Decoded JSON values that are not objects: null, bools, numbers, strings, arrays."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=20),
        st.lists(json_values(max_leaves=4), max_size=4),
    )


# Byte sequences that are never valid UTF-8 wherever they land.
_INVALID_UTF8 = (b"\xff", b"\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xc3")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def invalid_utf8(payload: Any) -> st.SearchStrategy[bytes]:
    """The JSON bytes of ``payload`` with an invalid UTF-8 sequence inserted somewhere."""
    encoded = json.dumps(payload).encode("utf-8")
    return st.builds(
        lambda at, bad: encoded[:at] + bad + encoded[at:],
        st.integers(min_value=0, max_value=len(encoded)),
        st.sampled_from(_INVALID_UTF8),
    ).filter(lambda data: not _is_utf8(data))


def truncated_json(payload: dict[str, Any] | list[Any]) -> st.SearchStrategy[str | bytes]:
    """A proper prefix of ``payload``'s JSON text (never valid JSON for an object or array)."""
    text = json.dumps(payload)
    prefixes = st.integers(min_value=0, max_value=len(text) - 1).map(lambda end: text[:end])
    return prefixes | prefixes.map(lambda prefix: prefix.encode("utf-8"))


def recounted(payload: Any) -> st.SearchStrategy[Any]:
    """``payload`` with some of its integer leaves set to other small non-negative integers.

    Plausible payloads with other counts (a finished job with some rows rejected, ...), where
    the contract's rules about counts and terminal states can be seen to hold or not.
    """
    paths = integer_paths(payload)
    if not paths:
        return st.nothing()

    def other(number: int) -> st.SearchStrategy[int | None]:
        return st.none() | st.integers(min_value=0, max_value=max(3, 2 * number))

    def apply(values: tuple[int | None, ...]) -> Any:
        result = copy.deepcopy(payload)
        for path, value in zip(paths, values, strict=True):
            if value is not None:
                _parent(result, path)[path[-1]] = value
        return result

    return st.tuples(*(other(_get(payload, path)) for path in paths)).map(apply)


def without_keys(payload: Any, paths: Collection[Path]) -> Any:
    """A deep copy of ``payload`` without the object keys at ``paths``."""
    return _without(payload, paths)


def optional_integer_keys(payload: Any, accepts: Callable[[Any], bool]) -> list[Path]:
    """The object keys holding an integer whose removal alone ``accepts`` still takes."""
    paths = [path for path in integer_paths(payload) if isinstance(_parent(payload, path), dict)]
    return [path for path in paths if accepts(_without(payload, [path]))]


# Numbers as text that a careless ``float(...)`` / ``int(...)`` reads as inf, NaN or worse.
_NUMERIC_TEXTS = (
    "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1e-400", "-0", "0x1F",
    "1_000", " 7 ", "\u0667", "\uff17", "1" + "0" * 400, "9" * 5000, "1.5", "-1", "",
)  # fmt: skip
_LONE_SURROGATES = ("\ud800", "\udfff", "a\udc80b", "\ud83d")


def hostile_texts() -> st.SearchStrategy[str]:
    """Strings a provider's payload can carry that trip careless code: numbers as text that are
    NaN, infinite or enormous, non-ASCII digits, and lone surrogates (valid JSON escapes that
    are not Unicode)."""
    numeric = st.sampled_from(_NUMERIC_TEXTS)
    lone = st.sampled_from(_LONE_SURROGATES)
    mixed = st.builds(lambda a, b, c: a + b + c, st.text(max_size=5), lone, st.text(max_size=5))
    return numeric | lone | mixed


def _nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


# How deep the hostile values nest: to the decoder's bound (``importbridge.jsontext.MAX_DEPTH``)
# and a little past what the model takes in a row's data, so both refusals are exercised.
MAX_NESTING = 100


def hostile_values(payload: Any) -> st.SearchStrategy[Any]:
    """``payload`` with one node replaced by a hostile text, a huge or non-finite number, or
    a value nested up to ``MAX_NESTING`` deep."""
    paths = list(_paths(payload))
    if not paths:
        return st.nothing()
    values = st.one_of(
        hostile_texts(),
        st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, 2**64, -(2**63), 10**400]),
        st.builds(_nested, st.integers(1, MAX_NESTING), st.sampled_from([0, "x", {}, None])),
        st.builds(lambda depth: _nested(depth, {"k": _nested(depth, 1)}), st.integers(1, MAX_NESTING // 2)),
    )
    return st.builds(lambda path, new: _with(payload, path, new), st.sampled_from(paths), values)


_MARK = "\x00importbridge-hostile\x00"
# Tokens Python's json reads though JSON has no such value: a strict decoder must refuse them.
NOT_JSON_TOKENS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" + "0" * 400 + ".0e999")


def hostile_json_text(payload: Any) -> st.SearchStrategy[tuple[bool, str]]:
    """(must be refused, text): ``payload``'s JSON text with one node spelled hostilely.

    Refused: NaN and infinities (``NOT_JSON_TOKENS``), nesting 5,000 to 100,000 deep, and any
    text nesting deeper than the decoder's bound (``importbridge.jsontext.MAX_DEPTH``), which
    arrays nested up to ``MAX_NESTING`` deep at any node reach or not. Accepted: lone
    surrogates spelled as ``\\ud800`` escapes.
    """
    paths = list(_paths(payload))
    if not paths:
        return st.nothing()

    def spell(path: Path, refused: bool, token: str) -> tuple[bool, str]:
        return refused, json.dumps(_with(payload, path, _MARK)).replace(json.dumps(_MARK), token, 1)

    def nest(path: Path, depth: int) -> tuple[bool, str]:
        deep = _container_depth(_with(payload, path, _nested(depth, 1))) > MAX_DEPTH
        return spell(path, deep, "[" * depth + "1" + "]" * depth)

    tokens = st.one_of(
        st.tuples(st.just(True), st.sampled_from(NOT_JSON_TOKENS)),
        st.tuples(st.just(True), st.integers(5_000, 100_000).map(lambda n: "[" * n + "]" * n)),
        st.tuples(st.just(False), st.sampled_from(_LONE_SURROGATES).map(json.dumps)),
    )
    return st.one_of(
        st.builds(lambda path, pair: spell(path, *pair), st.sampled_from(paths), tokens),
        st.builds(nest, st.sampled_from(paths), st.integers(1, MAX_NESTING)),
    )


def _container_depth(value: Any) -> int:
    """How many arrays and objects nest in ``value`` at its deepest (a scalar: 0)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest
