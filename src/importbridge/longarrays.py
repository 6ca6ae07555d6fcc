"""Long arrays of a large payload text, decoded a chunk at a time: rows nobody reads cost no memory.

``json.loads`` of a million-row payload builds every row's dict at once: hundreds of megabytes
mapped in afresh on each call, so the cost per row grows with the payload (page faults, cache
misses) even before anything reads a row. A provider names where its long row arrays sit
(``Provider.row_arrays``); for a text payload of ``LONG_TEXT`` bytes or more, ``importbridge.normalize``
decodes the rest of the document as usual and each named array in chunks of about ``CHUNK``
characters. Each chunk is decoded once, checked by the provider's function for that array
(``fold``), and dropped; what stays is a ``LongArray``: the text and where each chunk lies.
Reading it (iterating, indexing, ``len``, ``fold`` with another function) decodes chunks again,
one at a time.

Nothing about the document changes but the memory it holds: ``LongArray`` equals the list it
stands for, every entry is exactly what ``json.loads`` gives, and broken JSON raises the very
error ``jsontext.loads`` raises (any doubt, and the whole text goes through it).

An array shorter than a chunk is read whole, from windows of text that grow to a chunk's
length, and stays a list (the adapter's ``fold`` checks it). A window cut short cannot close
the array, so it fails rather than misleads; the one that decodes holds the array's ``]``.

Where the chunks are cut: after an entry's ``}``, its comma and the next entry's opening as the
first entry's reads (``{"rowNum"``), or any ``{`` once no entry a few chunks ahead opens so,
about ``CHUNK`` characters after the previous cut. Such a candidate may lie inside a string or
a nested array; decoding ``"[" + entries + "]"`` proves it: a cut inside a string leaves that
string unterminated, a cut in a nested value leaves a bracket open, so the piece decodes to
exactly those entries only where the cut is between two of them (JSON has one parse, and an
object ends at its ``}``). A piece that stops early has met the array's own ``]``: that is the
last chunk. Three failed candidates, or none within a few chunks, and the rest of the array
goes through one decode (in growing windows), as it always did. Every search and window is
bounded by a few chunks, so a document of many arrays costs what its length costs.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol, overload

from .errors import InvalidPluginError
from .jsontext import MAX_DEPTH, JSONTextError, _deeper_than, _scan, _skip_space, loads

__all__ = ["CHUNK", "LONG_TEXT", "Check", "LongArray", "decode", "fold", "loads_for", "paths"]

#: from this length on, a payload text given to ``normalize`` has its providers' row arrays
#: decoded in chunks (a 10,000-row payload is about 1 MB of text)
LONG_TEXT = 2 * 1024 * 1024

#: characters of text per chunk, about 600 rows of a usual payload: small enough that a chunk's
#: objects live in the allocator's warm memory and the cache, large enough that the cut is free
CHUNK = 64 * 1024

#: a provider's function for one chunk of an array's decoded entries (a list): what it returns
#: is kept, one value per chunk, in order (``LongArray.fold``)
Check = Callable[[list[Any]], object]

_EVERY = "[]"  # a path's step into every element of an array
_SPACE = r"[ \t\n\r]*"
#: an object entry's end, a comma, and the next entry's start
_ANY_ENTRY = re.compile(r"\}" + _SPACE + "," + _SPACE + r"\{")
_any_entry = _ANY_ENTRY.search
#: an object entry's opening up to its first key (``{"rowNum"``): entries of a row array share it
_OPENING = re.compile(r"\{" + _SPACE + r'"[^"\\]{1,64}"')
#: how far past a chunk's length a cut is looked for, at least (an entry may be longer)
_REACH = 4096
#: candidate cuts tried before the rest of the array goes through one decode
_TRIES = 3
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_DICT_ONLY = frozenset({dict})


class LongArray(Sequence[Any]):
    """A JSON array held as its text: entries decoded a chunk at a time, each time they are read.

    A read-only sequence equal to the list ``json.loads`` makes of it (``==``, ``len``, indexing,
    iteration); ``copy``, ``pickle`` and ``deepcopy`` give that list. ``json.dumps`` does not take
    it: ``list(array)`` first. ``chunks()`` yields the decoded entries chunk by chunk, and
    ``fold(check)`` applies ``check`` to each chunk (answered from memory for the function the
    provider named, which ran while the payload was decoded).
    """

    __slots__ = ("_check", "_checked", "_ends", "_last", "_objects", "_spans", "_text")

    def __init__(
        self,
        text: str,
        spans: list[tuple[int, int]],
        ends: list[int],
        check: Check,
        checked: list[object],
        objects: bool,
    ) -> None:
        self._text = text
        self._spans = spans  # each chunk's entries: text[start:stop], commas between them
        self._ends = ends  # entries up to and including each chunk (cumulative)
        self._check = check
        self._checked = checked
        self._objects = objects
        self._last: tuple[int, list[Any]] | None = None  # the chunk an index read decoded last

    @property
    def objects(self) -> bool:
        """Whether every entry is a JSON object (known from the decode; reads nothing)."""
        return self._objects

    def chunks(self) -> Iterator[list[Any]]:
        """The entries, decoded afresh, a chunk (a new list) at a time."""
        for index in range(len(self._spans)):
            yield self._chunk(index)

    def fold(self, check: Check) -> list[object]:
        """``check`` of each chunk, in order: from memory when it is the provider's own."""
        if check is self._check:
            return list(self._checked)
        return [check(chunk) for chunk in self.chunks()]

    def _chunk(self, index: int) -> list[Any]:
        start, stop = self._spans[index]
        entries: list[Any] = _scan("[" + self._text[start:stop] + "]", 0)[0]
        return entries

    def __len__(self) -> int:
        return self._ends[-1]

    def __iter__(self) -> Iterator[Any]:
        for chunk in self.chunks():
            yield from chunk

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        size = len(self)
        position = index.__index__()
        if position < 0:
            position += size
        if not 0 <= position < size:
            raise IndexError("LongArray index out of range")
        chunk = bisect.bisect_right(self._ends, position)
        last = self._last
        if last is None or last[0] != chunk:
            last = self._last = (chunk, self._chunk(chunk))
        return last[1][position - (self._ends[chunk - 1] if chunk else 0)]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LongArray):
            return len(self) == len(other) and list(self) == list(other)
        if isinstance(other, list):
            return len(self) == len(other) and list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like the list it stands for

    def __repr__(self) -> str:
        return f"<LongArray: {len(self)} entries in {len(self._spans)} chunks>"

    def __reduce__(self) -> tuple[type[list[Any]], tuple[list[Any]]]:
        return list, (list(self),)


def fold(entries: Sequence[Any], check: Check) -> list[object]:
    """``check`` of each chunk of ``entries``: one call for a list, ``LongArray.fold`` otherwise."""
    if type(entries) is LongArray:
        return entries.fold(check)
    return [check(entries if type(entries) is list else list(entries))]


# -- paths ------------------------------------------------------------------------------------

Paths = dict[str, Any]  # key -> deeper paths, or the Check of the array found there


def paths(arrays: Mapping[str, Check]) -> Paths:
    """``row_arrays``' paths as a tree: ``"a.b[].c"`` is key ``a``, key ``b``, every element, key ``c``."""
    tree: Paths = {}
    for path, check in arrays.items():
        if not callable(check):
            raise ValueError(f"row array {path!r}: its check must be callable, got {type(check).__name__}")
        steps: list[str] = []
        for part in path.split("."):
            key, every = (part[:-2], True) if part.endswith(_EVERY) else (part, False)
            if key:
                steps.append(key)
            if every:
                steps.append(_EVERY)
            if not key and not every:
                raise ValueError(f"row array path {path!r} has an empty step")
        if not steps:
            raise ValueError("a row array path names no key")
        node = tree
        for step in steps[:-1]:
            node = node.setdefault(step, {})
            if not isinstance(node, dict):
                raise ValueError(f"row array path {path!r} goes inside another row array")
        if steps[-1] in node:
            raise ValueError(f"row array path {path!r} overlaps another")
        node[steps[-1]] = check
    return tree


# -- decoding ---------------------------------------------------------------------------------


class _Declares(Protocol):
    """What ``loads_for`` needs of a provider."""

    name: ClassVar[str]

    def row_arrays(self) -> Mapping[str, Check]: ...


def loads_for(provider: _Declares, text: str | bytes | bytearray | memoryview) -> Any:
    """A payload or response text of ``provider`` decoded: ``jsontext.loads``, and from
    ``LONG_TEXT`` on with the arrays its ``row_arrays`` names in chunks (``JSONTextError`` alike)."""
    if len(text) >= LONG_TEXT:
        try:
            tree = paths(provider.row_arrays())
        except ValueError as exc:
            raise InvalidPluginError(f"provider {provider.name!r}: row_arrays(): {exc}") from None
        if tree:
            try:
                return decode(text, tree)
            except JSONTextError:
                raise
            except Exception as exc:  # a check's own failure, which a list would have met in normalize
                reason = f"{type(exc).__name__}: {str(exc)[:200]}"
                message = f"provider {provider.name!r}: a row_arrays() check raised {reason}"
                raise InvalidPluginError(message) from exc
    return loads(text)


class _CheckRaised(Exception):
    """A provider's chunk check raised ``error``: ``decode`` raises that, as it is."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _Doubt(Exception):
    """The walk met something it does not read itself: the whole text goes through ``loads``."""


def decode(text: str | bytes | bytearray | memoryview, tree: Paths, chunk: int = CHUNK) -> Any:
    """``jsontext.loads(text)``, the arrays at ``tree``'s paths decoded in chunks (``LongArray``).

    Same value (as compared with ``==``), same errors: anything the walk does not read exactly
    (malformed JSON, a refused value, a cut that proves nothing) is decoded by ``loads`` alone.
    An exception a check raises comes out as it is.
    """
    original = text
    raw: bytes | None = None
    if not isinstance(text, str):
        raw = text if type(text) is bytes else bytes(text)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return loads(original)
    walk = _Walk(text, chunk)
    try:
        start = _skip_space(text, 0).end()
        value, end = walk.value(start, tree)
        if _skip_space(text, end).end() != len(text):
            raise _Doubt
    except _CheckRaised as raised:
        raise raised.error from None
    except (_Doubt, StopIteration, ValueError, IndexError, RecursionError):
        return loads(original)  # raises what it raises for this text (or reads it, if we erred)
    if _deeper_than(text, raw, MAX_DEPTH):
        return loads(original)
    return value


class _Walk:
    """One decode: objects on a path read key by key, everything else by the C scanner."""

    __slots__ = ("chunk", "cut", "text")

    def __init__(self, text: str, chunk: int) -> None:
        self.text = text
        self.chunk = chunk
        self.cut = _any_entry  # where the entries of the array being read may part

    def value(self, at: int, node: Any) -> tuple[Any, int]:
        first = self.text[at : at + 1]
        if callable(node):
            if first == "[":
                return self.long_array(at, node)
        elif first == "{":
            return self.object(at, node)
        elif first == "[" and _EVERY in node:
            return self.array(at, node[_EVERY])
        return _scan(self.text, at)

    def object(self, at: int, node: Paths) -> tuple[dict[str, Any], int]:
        text = self.text
        found: dict[str, Any] = {}
        at = _skip_space(text, at + 1).end()
        if text[at] == "}":
            return found, at + 1
        while True:
            if text[at] != '"':
                raise _Doubt
            key, at = _scanstring(text, at + 1, True)
            at = _skip_space(text, at).end()
            if text[at] != ":":
                raise _Doubt
            at = _skip_space(text, at + 1).end()
            deeper = node.get(key)
            found[key], at = _scan(text, at) if deeper is None else self.value(at, deeper)
            at = _skip_space(text, at).end()
            if text[at] == "}":
                return found, at + 1
            if text[at] != ",":
                raise _Doubt
            at = _skip_space(text, at + 1).end()

    def array(self, at: int, node: Any) -> tuple[list[Any], int]:
        text = self.text
        found: list[Any] = []
        at = _skip_space(text, at + 1).end()
        if text[at] == "]":
            return found, at + 1
        while True:
            entry, at = self.value(at, node)
            found.append(entry)
            at = _skip_space(text, at).end()
            if text[at] == "]":
                return found, at + 1
            if text[at] != ",":
                raise _Doubt
            at = _skip_space(text, at + 1).end()

    def long_array(self, at: int, check: Check) -> tuple[Any, int]:
        """The array at ``at`` as a ``LongArray`` (a list when it is short), and where it ends."""
        text = self.text
        start = _skip_space(text, at + 1).end()
        if text[start] == "]":
            return [], start + 1
        # a short array (most are): read whole, from windows of text growing to a chunk's length
        size = self.chunk // 64
        while 0 < size < self.chunk:
            short = self._window(start, size)
            if short is not None:
                return short[0], _skip_space(text, short[1]).end() + 1
            size *= 4
        # an entry's end, a comma and the next entry's opening as the first entry's reads: an
        # object nested in an entry seldom opens with the same key (a false cut costs a decode)
        opening = _OPENING.match(text, start)
        self.cut = (
            _any_entry
            if opening is None
            else re.compile(r"\}" + _SPACE + "," + _SPACE + re.escape(opening.group())).search
        )
        spans: list[tuple[int, int]] = []
        ends: list[int] = []
        checked: list[object] = []
        objects = True
        count = 0
        while True:
            entries, stop, last = self._piece(start)
            count += len(entries)
            spans.append((start, stop))
            ends.append(count)
            objects = objects and set(map(type, entries)) <= _DICT_ONLY
            try:
                checked.append(check(entries))
            except Exception as exc:  # the provider's own code: not a doubt about the text
                raise _CheckRaised(exc) from exc
            del entries  # (the point: a chunk's objects are gone before the next is made)
            if last:
                # ``stop`` is where the array's entries end; its ``]`` follows the whitespace
                array = LongArray(text, spans, ends, check, checked, objects)
                return array, _skip_space(text, stop).end() + 1
            start = _skip_space(text, _skip_space(text, stop).end() + 1).end()  # past the comma

    def _piece(self, start: int) -> tuple[list[Any], int, bool]:
        """Entries from ``start``: a chunk's (up to a proven cut), or the rest of the array's.

        Returns the entries, where they end in the text (before the comma or the ``]``), and
        whether the array ends there. Cuts are looked for within a few chunks' length only, so
        a document of many arrays costs no search of all the text behind each.
        """
        text = self.text
        ahead = start + 4 * self.chunk + _REACH
        cut = self.cut(text, start + self.chunk, ahead)
        if cut is None and self.cut is not _any_entry:
            # no entry ahead opens as the first did (keys in another order): any entry's end will do
            self.cut = _any_entry
            cut = self.cut(text, start + self.chunk, ahead)
        for _ in range(_TRIES):
            if cut is None:
                break
            stop = cut.start() + 1  # just after the ``}``
            piece = "[" + text[start:stop] + "]"
            try:
                entries, end = _scan(piece, 0)
            except (StopIteration, ValueError, RecursionError):
                cut = self.cut(text, stop, ahead)  # not between entries (or broken): the next one
                continue
            if end == len(piece):
                return entries, stop, False
            # the array's own ``]`` came first: these are its last entries
            return entries, _entries_end(text, start - 1 + end), True
        # no proven cut: the rest of the array, in windows of text that double until one holds it
        size = 4 * self.chunk
        while True:
            rest = self._window(start, size)
            if rest is not None:
                return rest[0], rest[1], True
            size *= 2

    def _window(self, start: int, size: int) -> tuple[list[Any], int] | None:
        """The array's entries from ``start`` to its end, and where they end, if the ``size``
        characters from ``start`` hold its ``]``; None if they do not (a window cut short cannot
        close the array, so it fails rather than misleads). Broken text is a doubt."""
        text = self.text
        piece = "[" + text[start : start + size]
        try:
            entries, end = _scan(piece, 0)
        except (StopIteration, ValueError, RecursionError):
            if start + size >= len(text):
                raise _Doubt from None  # the whole rest did not do: ``loads`` says why
            return None
        return entries, _entries_end(text, start - 1 + end)


def _entries_end(text: str, after: int) -> int:
    """Where an array's entries end, given the index just after its ``]``: before that bracket
    and any whitespace ahead of it."""
    at = after - 1  # the ``]``
    while text[at - 1] in " \t\n\r":
        at -= 1
    return at
