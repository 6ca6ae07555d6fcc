"""``PayloadReader``: read one decoded provider payload exactly, with a path in every error.

Adapters (built-in and third-party) turn provider JSON into an ``ImportJob``. Each needs the
same strictness: a count is a non-negative ``int`` (never a bool, never ``3.0``), a date parses
as ISO-8601, a status word is one the provider documents, and every failure is a
``PayloadError`` naming the provider, the field path (``results[3].error.code``) and the reason.
The reader does that once, so adapters stay short tables of field names.

A reader wraps one JSON object and never mutates it; unknown extra fields are ignored::

    r = PayloadReader("micro", payload)
    total = r.count("total", required=True)
    word, state = r.status("status", STATUS_WORDS)
    for entry in r.items("results"):         # readers for results[0], results[1], ...
        code = entry.child("error").string("code") if entry.has("error") else None

For per-row loops over thousands of entries, ``objects()`` hands back the validated list of
raw dicts (cheap), and ``item(key, index)`` builds the path-carrying reader only on the slow
path, to explain the first bad entry.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from itertools import repeat
from typing import Any, Literal, TypeVar

from .convert import parse_datetime
from .errors import PayloadError
from .longarrays import Check, LongArray
from .longarrays import fold as _fold

__all__ = ["PayloadReader"]

V = TypeVar("V")

# The units ``PayloadReader.datetime(key, unit=...)`` reads unix timestamps in.
TimestampUnit = Literal["s", "ms"]
_UNITS: dict[str, int] = {"s": 1_000_000, "ms": 1_000}  # microseconds per unit
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# ASCII digits only: Python's \d and float() also take e.g. Arabic-Indic and full-width digits
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def describe(value: object) -> str:
    """A short, safe description of a JSON value for error messages (type and a clipped repr)."""
    kind = _KINDS.get(type(value))
    if kind is None:
        kind = "object" if isinstance(value, Mapping) else type(value).__name__
    if value is None or kind in ("object", "array"):
        return kind
    return f"{kind} {_clip(value)}"


_KINDS: dict[type, str] = {
    dict: "object",
    list: "array",
    tuple: "array",
    LongArray: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


_DICT_ONLY = frozenset({dict})
_TEXT_OR_NULL = frozenset({str, type(None)})
_INT_ONLY = frozenset({int})
_INT_OR_NULL = frozenset({int, type(None)})
_not_null = functools.partial(operator.is_not, None)
_UTC = timezone.utc
_new = object.__new__
#: what ``percent`` makes of the usual percentage strings, by dictionary lookup
_PERCENT_TEXTS: dict[str, float] = {str(number): number / 100 for number in range(101)}


_fromisoformat = datetime.fromisoformat


class PayloadReader:
    """Exact, path-aware access to one JSON object of a provider's payload.

    ``provider`` names the provider in errors; ``path`` is where this object sits in the
    whole payload (empty for the top level). Every accessor takes the field ``key``; a
    missing field and an explicit ``null`` both read as ``None`` (the provider did not say)
    unless ``required=True``, which turns them into a ``PayloadError``.
    """

    __slots__ = ("_at", "_path", "data", "provider")

    provider: str
    data: Mapping[str, Any]
    _path: str
    _at: tuple[PayloadReader, str, int | None] | None

    def __init__(self, provider: str, payload: object, path: str = "") -> None:
        if type(payload) is not dict and not isinstance(payload, Mapping):
            raise PayloadError(provider, path, f"expected an object, got {describe(payload)}")
        self.provider = provider
        self.data = payload
        self._path = path
        self._at = None

    @property
    def path(self) -> str:
        """Where this object sits in the whole payload (empty at the top level).

        A reader made by ``child`` or ``items`` keeps its parent and key, and writes its path
        out the first time it is asked (for an error, mostly): most readers are never asked.
        """
        at = self._at
        if at is not None:
            parent, key, index = at
            path = parent.where(key)
            self._path = path if index is None else f"{path}[{index}]"
            self._at = None
        return self._path

    @path.setter
    def path(self, path: str) -> None:
        self._path = path
        self._at = None

    def _nested(self, value: Any, key: str, index: int | None = None) -> PayloadReader:
        """A reader for ``value``, found at ``key`` (element ``index`` of it) under this object;
        built without the constructor's call (one per nested object of every payload)."""
        if type(value) is not dict and not isinstance(value, Mapping):
            where = self.where(key)
            where = where if index is None else f"{where}[{index}]"
            raise PayloadError(self.provider, where, f"expected an object, got {describe(value)}")
        reader = _new(PayloadReader)
        reader.provider = self.provider
        reader.data = value
        reader._at = (self, key, index)
        return reader

    describe = staticmethod(describe)

    def __repr__(self) -> str:
        return f"<PayloadReader {self.provider} {self.path or '<payload>'}>"

    # -- locating ---------------------------------------------------------------------------

    def where(self, key: str | int | None = None) -> str:
        """The full path of ``key`` (a field name or an array index) under this object."""
        if key is None:
            return self.path
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | int | None, reason: str) -> PayloadError:
        """A ``PayloadError`` about ``key`` of this object (return it, then ``raise`` it)."""
        return PayloadError(self.provider, self.where(key), reason)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present with a value other than ``null``."""
        return self.data.get(key) is not None

    def get(self, key: str) -> Any:
        """The raw value of ``key`` (``None`` when missing), unchecked: for opaque fields."""
        return self.data.get(key)

    def first_present(self, *keys: str) -> str | None:
        """The first of ``keys`` present and not ``null``: for fields known under several names."""
        data = self.data
        for key in keys:
            if data.get(key) is not None:
                return key
        return None

    def _absent(self, key: str) -> PayloadError:
        """The error for a required field that is missing or null."""
        return self.error(key, "is null" if key in self.data else "missing required field")

    # -- scalars ----------------------------------------------------------------------------

    def count(self, key: str, *, required: bool = False) -> int | None:
        """A non-negative integer. Booleans and floats (even ``3.0``) are rejected."""
        value = self.data.get(key)
        if type(value) is int and value >= 0:
            return value
        if value is None:
            if required:
                raise self._absent(key)
            return None
        if type(value) is int:
            raise self.error(key, f"expected a non-negative integer, got {_clip(value)}")
        raise self.error(key, f"expected a non-negative integer, got {describe(value)}")

    def row_number(self, key: str, *, required: bool = False) -> int | None:
        """A row number: an integer from 1 (the contract numbers rows from 1, as people do)."""
        value = self.count(key, required=required)
        if value == 0:
            raise self.error(key, "expected a row number from 1, got 0")
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        """Any integer (negative allowed); booleans and floats are rejected."""
        value = self.data.get(key)
        if type(value) is int:
            return value
        if value is None:
            if required:
                raise self._absent(key)
            return None
        raise self.error(key, f"expected an integer, got {describe(value)}")

    def string(self, key: str, *, required: bool = False) -> str | None:
        """A string, as given (empty strings included)."""
        value = self.data.get(key)
        if type(value) is str:
            return value
        if value is None:
            if required:
                raise self._absent(key)
            return None
        raise self.error(key, f"expected a string, got {describe(value)}")

    def identifier(self, key: str, *, required: bool = False) -> str | None:
        """An id given as a string or an integer, returned as a string (booleans rejected)."""
        value = self.data.get(key)
        if type(value) is str:
            return value
        if type(value) is int:
            return str(value)
        if value is None:
            if required:
                raise self._absent(key)
            return None
        raise self.error(key, f"expected a string or integer id, got {describe(value)}")

    def boolean(self, key: str, *, required: bool = False) -> bool | None:
        """``true`` or ``false``; no truthy strings or numbers."""
        value = self.data.get(key)
        if value is True or value is False:
            return value
        if value is None:
            if required:
                raise self._absent(key)
            return None
        raise self.error(key, f"expected a boolean, got {describe(value)}")

    def datetime(
        self, key: str, *, required: bool = False, unit: TimestampUnit | None = None
    ) -> datetime | None:
        """A date-time as an aware UTC datetime: an ISO-8601 string (a naive one is taken as UTC),
        or, when ``unit`` is given, a unix timestamp in that unit.

        ``unit="s"`` reads seconds since 1970-01-01T00:00:00Z, ``unit="ms"`` milliseconds; the
        timestamp may be an integer, a number with a fraction or a plain decimal string
        (``"1714557600"``). There is no guessing by magnitude: a provider documents its unit,
        so the adapter names it. Without ``unit``, a number is an error. Never reach for
        ``datetime.fromtimestamp``: without ``tz`` it gives the host's local time.
        """
        value: Any = self.data.get(key)
        kind = type(value)
        if kind is str and (unit is None or _NUMBER.fullmatch(value.strip()) is None):
            # the common case first, inline: an ISO-8601 text in UTC (``...Z``) that
            # ``fromisoformat`` (C) reads as is; anything else goes to ``parse_datetime``
            # (no cache: every poll brings new timestamps)
            try:
                parsed: datetime | None = _fromisoformat(value)
            except (ValueError, OverflowError):
                parsed = None
            if parsed is not None and parsed.tzinfo is _UTC:
                return parsed
            try:
                return parse_datetime(value)
            except (ValueError, OverflowError):
                raise self.error(key, f"date-time {_clip(value)} does not parse as ISO-8601") from None
        if value is None:
            if required:
                raise self._absent(key)
            return None
        if unit is not None and kind in (int, float, str):
            try:
                return _from_timestamp(value, unit)
            except (ValueError, OverflowError):  # NaN, infinities, beyond the years 1..9999
                reason = f"unix timestamp {_clip(value)} ({unit}) is not a date within the years 1..9999"
                raise self.error(key, reason) from None
        expected = "an ISO-8601 date-time string" + (f" or a unix timestamp in {unit}" if unit else "")
        raise self.error(key, f"expected {expected}, got {describe(value)}")

    def percent(self, key: str, *, required: bool = False) -> float | None:
        """A percentage from 0 to 100 (integer, number or numeric string) as a fraction 0..1.

        Numeric strings are plain decimals (``"42"``, ``"99.5"``, ``"1e2"``); ``"nan"``,
        ``"inf"``, ``"1_0"`` and values outside 0..100 are rejected.
        """
        value: Any = self.data.get(key)
        kind = type(value)
        if kind is int:
            if 0 <= value <= 100:
                return float(value) / 100
        elif kind is float:
            if 0.0 <= value <= 100.0:  # False for NaN
                return float(value) / 100
        elif kind is str:
            fraction = _PERCENT_TEXTS.get(value)
            if fraction is not None:  # the common "100", "42"
                return fraction
            if value.isdigit() and value.isascii() and len(value) <= 3:  # "007"
                number: float = int(value)
            else:
                text = value.strip()
                if _NUMBER.fullmatch(text) is None:
                    raise self.error(key, f"expected a percentage, got {describe(value)}")
                number = float(text)
            if 0.0 <= number <= 100.0:
                return number / 100
        elif value is None:
            if required:
                raise self._absent(key)
            return None
        else:
            raise self.error(key, f"expected a percentage, got {describe(value)}")
        raise self.error(key, f"percentage {_clip(value)} is outside 0..100")

    def status(self, key: str, table: Mapping[str, V]) -> tuple[str, V]:
        """A status word (required) and what ``table`` maps it to; unknown words list the known."""
        value = self.data.get(key)
        if type(value) is str:
            try:
                return value, table[value]
            except KeyError:
                pass
            reason = f"unknown status word {_clip(value)}"
        elif value is None:
            reason = "is null" if key in self.data else "missing required field"
            reason += " (a status word)"
        else:
            reason = f"expected a status word, got {describe(value)}"
        known = ", ".join(sorted(table))
        raise self.error(key, f"{reason}; known words: {known}")

    # -- nesting ----------------------------------------------------------------------------

    def child(self, key: str, *, required: bool = False) -> PayloadReader | None:
        """A reader for the nested object at ``key`` (``None`` when missing or ``null``)."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise self._absent(key)
            return None
        return self._nested(value, key)

    def array(self, key: str, *, required: bool = False) -> list[Any] | LongArray | None:
        """The JSON array at ``key`` as given (elements unchecked; do not mutate it): a list, or
        a ``LongArray`` where the provider's ``row_arrays`` put one."""
        value = self.data.get(key)
        if type(value) is list or type(value) is LongArray:
            return value
        if value is None:
            if required:
                raise self._absent(key)
            return None
        if isinstance(value, (list, tuple)):
            return list(value)
        raise self.error(key, f"expected an array, got {describe(value)}")

    def objects(self, key: str, *, required: bool = False) -> list[Mapping[str, Any]] | LongArray:
        """The array of objects at ``key`` as raw mappings; missing or ``null`` is empty.

        Every element is checked to be an object (the error names ``key[i]``); the
        mappings themselves are the payload's own: read them, never change them. A
        ``LongArray`` (``row_arrays``) comes back as it is: its decode already checked them.
        """
        values = self.array(key, required=required)
        if not values:
            return []
        if type(values) is LongArray:
            if values.objects:
                return values
        elif set(map(type, values)) <= _DICT_ONLY:  # the usual case, checked in C
            return values
        for index, value in enumerate(values):
            if type(value) is not dict and not isinstance(value, Mapping):
                raise PayloadError(
                    self.provider, f"{self.where(key)}[{index}]", f"expected an object, got {describe(value)}"
                )
        return values

    @staticmethod
    def fold(entries: Sequence[Any], check: Check) -> list[object]:
        """``check`` applied to each chunk of an array's entries, in order: ``[check(entries)]``
        for a list; for a ``LongArray``, one value per chunk (those of the provider's own
        ``row_arrays`` check come from memory: they ran while the payload was decoded).

        How an adapter validates (and counts) a row array that may be long: ``fold`` it with the
        function its ``row_arrays`` names for that path, and combine the answers.
        """
        return _fold(entries, check)

    @staticmethod
    def plain_rows(
        entries: list[Mapping[str, Any]], *, texts: tuple[str, ...] = (), row_number: str | None = None
    ) -> bool:
        """Whether every entry is a plain JSON object (a ``dict``) whose ``texts`` fields are each
        a string or missing / null and whose ``row_number`` field, if named, is an int from 1 or
        missing / null: the entries a row loop may take as they are.

        Checked column by column, from C, so validating a payload's thousands of rows costs a
        fraction of building them; on False, read the entries one by one through ``item`` (whose
        errors name the bad field).
        """
        if not entries:
            return True
        get: Any = dict.get
        if not set(map(type, entries)) <= _DICT_ONLY:
            return False
        for key in texts:
            if not set(map(type, map(get, entries, repeat(key)))) <= _TEXT_OR_NULL:
                return False
        if row_number is None:
            return True
        numbers: list[Any] = list(map(get, entries, repeat(row_number)))
        kinds = set(map(type, numbers))
        if kinds == _INT_ONLY:  # the usual column: rows are numbered from 1
            return bool(min(numbers) >= 1)
        return kinds <= _INT_OR_NULL and min(filter(_not_null, numbers), default=1) >= 1

    def items(self, key: str, *, required: bool = False) -> list[PayloadReader]:
        """Readers for each object of the array at ``key`` (paths ``key[0]``, ``key[1]``, ...)."""
        values = self.data.get(key)
        if type(values) is not list:
            values = self.array(key, required=required)
        if not values:
            return []
        readers: list[PayloadReader] = []
        for index, value in enumerate(values):
            readers.append(self._nested(value, key, index))
        return readers

    def item(self, key: str, index: int) -> PayloadReader:
        """A reader for element ``index`` of the array at ``key`` (which must exist)."""
        values = self.array(key, required=True) or []
        if not 0 <= index < len(values):
            raise self.error(key, f"has no element {index}")
        return self._nested(values[index], key, index)

    # -- cross-field checks -----------------------------------------------------------------

    def at_most(
        self, key: str, value: int | None, bound_key: str, bound: int | None, *, what: str = ""
    ) -> None:
        """Reject ``value`` (read from ``key``, or ``what`` it adds up) when it exceeds ``bound``.

        Unknown values (``None``) pass: only counts the payload states can contradict each other.
        """
        if value is not None and bound is not None and value > bound:
            label = f"{what} ({value})" if what else str(value)
            raise self.error(key, f"{label} exceeds {bound_key} ({bound})")


def _from_timestamp(value: float | str, unit: TimestampUnit) -> datetime:
    """A unix timestamp (int, float or decimal string) in ``unit`` as an aware UTC datetime."""
    scale = _UNITS[unit]  # a KeyError names the adapter's typo at once
    # an integer exactly, however large; a fraction to the nearest microsecond
    micros = value * scale if type(value) is int else round(float(value) * scale)
    return _EPOCH + timedelta(microseconds=micros)


def _clip(value: object) -> str:
    """A repr short enough for a message (huge integers are not even converted to text)."""
    if type(value) is int and value.bit_length() > 64:
        return f"<{'negative ' if value < 0 else ''}integer of {value.bit_length()} bits>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
