"""Hypothesis strategies for importbridge: valid jobs, and payloads broken on purpose.

Two families, both public so plugin authors can reuse them in their own tests:

- ``import_jobs()`` and its parts (``row_results()``, ``table_imports()``, ``job_errors()``,
  ``datetimes()``, ``json_values()``) build arbitrary *valid* ``ImportJob`` objects, for
  round-trip properties of anything that stores or sends jobs.
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

from importbridge import ImportJob, JobError, JobState, RowOutcome, RowResult, TableImport

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
    "import_jobs",
    "integer_paths",
    "invalid_utf8",
    "job_errors",
    "json_values",
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


def json_values(*, max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON value as ``json.loads`` returns it (finite floats, str keys)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def provider_names() -> st.SearchStrategy[str]:
    """Names the registry accepts: ``[a-z][a-z0-9_-]*``."""
    return st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)


def _timezones() -> st.SearchStrategy[Any]:  # tzinfo or None (naive, read as UTC)
    offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    return st.none() | st.just(timezone.utc) | offsets | st.timezones()


def datetimes() -> st.SearchStrategy[datetime]:
    """Naive (read as UTC) or aware datetimes in any time zone, with microseconds."""
    return st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(2999, 12, 30),
        timezones=_timezones(),
    )


def _optional_text() -> st.SearchStrategy[str | None]:
    return st.none() | st.text(max_size=30)


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


def import_jobs(*, provider: str | None = None) -> st.SearchStrategy[ImportJob]:
    """Arbitrary valid jobs: every field exercised, ``raw`` holding any JSON (it is never compared)."""
    return st.builds(
        ImportJob,
        provider=st.just(provider) if provider is not None else provider_names(),
        id=_optional_text(),
        state=st.sampled_from(JobState),
        provider_state=st.text(max_size=20),
        total=_counts(),
        processed=_counts(),
        succeeded=_counts(),
        failed=_counts(),
        created=_counts(),
        updated=_counts(),
        duplicates=_counts(),
        skipped=_counts(),
        progress=_fractions(),
        created_at=st.none() | datetimes(),
        started_at=st.none() | datetimes(),
        finished_at=st.none() | datetimes(),
        updated_at=st.none() | datetimes(),
        expires_at=st.none() | datetimes(),
        error=st.none() | job_errors(),
        rows=st.lists(row_results(), max_size=4),
        rows_complete=st.booleans(),
        tables=st.lists(table_imports(), max_size=3),
        mode=_optional_text(),
        file_name=_optional_text(),
        raw=json_values(max_leaves=4),
    )


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


# How deep the hostile values nest: what ``to_dict`` takes today under a test runner's stack
# (data nested deeper, yet within what the decoder accepts, still crashes it: to be bounded).
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

    Refused: NaN and infinities (``NOT_JSON_TOKENS``), and nesting 5,000 to 100,000 deep.
    Either way: nesting up to ``MAX_NESTING`` deep and lone surrogates spelled as ``\\ud800``
    escapes.
    """
    paths = list(_paths(payload))
    if not paths:
        return st.nothing()

    def spell(path: Path, refused: bool, token: str) -> tuple[bool, str]:
        return refused, json.dumps(_with(payload, path, _MARK)).replace(json.dumps(_MARK), token, 1)

    tokens = st.one_of(
        st.tuples(st.just(True), st.sampled_from(NOT_JSON_TOKENS)),
        st.tuples(st.just(True), st.integers(5_000, 100_000).map(lambda n: "[" * n + "]" * n)),
        st.tuples(st.just(False), st.integers(1, MAX_NESTING).map(lambda n: "[" * n + "1" + "]" * n)),
        st.tuples(st.just(False), st.sampled_from(_LONE_SURROGATES).map(json.dumps)),
    )
    return st.builds(lambda path, pair: spell(path, *pair), st.sampled_from(paths), tokens)
