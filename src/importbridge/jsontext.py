"""Strict JSON text: what a provider can send, and none of what Python's ``json`` adds.

Python's decoder accepts ``NaN`` and ``Infinity``, turns ``1e400`` into ``inf`` and nests as
deep as the interpreter's recursion limit allows. No provider sends any of these, and a job
carrying one is not JSON any more (or cannot be written out again), so every body importbridge
decodes (a payload given to ``normalize``, a response read by a transport, a document given to
``from_json``) goes through ``loads`` here. Its errors are plain ``JSONTextError`` (a
``ValueError``) whose message says what was wrong; each caller turns them into the error of its
own layer (``PayloadError`` for a payload).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_DEPTH", "JSONTextError", "loads"]

#: How deeply arrays and objects may nest (``[[1]]`` is 2 deep). Provider payloads nest a handful
#: of levels; the bound keeps every decoded value, and every job built from one, far from the
#: recursion limit of whatever walks it later (``to_dict``, ``copy.deepcopy``, ``json.dumps``).
MAX_DEPTH = 100


class JSONTextError(ValueError):
    """The text is not strict JSON; the message says why and where."""


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """Decode strict JSON text (UTF-8 when bytes); ``JSONTextError`` for anything else.

    Refused: ``NaN`` / ``Infinity``, a number out of a float's range, an integer longer than
    Python converts (4300 digits by default), and nesting deeper than ``MAX_DEPTH``.
    """
    raw: bytes | None = None
    if not isinstance(text, str):
        raw = text if type(text) is bytes else bytes(text)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONTextError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        value = _decode(text)
    except json.JSONDecodeError as exc:
        raise JSONTextError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _Refused as exc:
        raise JSONTextError(f"not JSON: {exc}") from None
    except ValueError:  # int() refused a number with too many digits
        raise JSONTextError("not JSON this library accepts: an integer with too many digits") from None
    except RecursionError:
        raise JSONTextError(_TOO_DEEP) from None
    if _deeper_than(text, raw, MAX_DEPTH):
        raise JSONTextError(_TOO_DEEP)
    return value


_TOO_DEEP = f"not JSON this library accepts: nested deeper than {MAX_DEPTH} levels"


class _Refused(ValueError):
    """Raised by the decoder's hooks for a value JSON does not have."""


def _not_json_constant(name: str) -> object:
    raise _Refused(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text[:40]} is out of range for a float")
    return value


# One strict decoder, built once: ``json.loads(text, parse_constant=...)`` would build a new
# decoder on every call, which costs about as much as decoding a status payload.
_DECODER = json.JSONDecoder(parse_constant=_not_json_constant, parse_float=_finite_float)
# the decoder's scanner (C's ``_json.Scanner`` where it exists; typeshed does not declare it)
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
# JSON's whitespace, as ``json.decoder.WHITESPACE``; it matches everywhere (maybe empty)
_skip_space: Callable[[str, int], Any] = re.compile(r"[ \t\n\r]*").match


def _decode(text: str) -> Any:
    """``_DECODER.decode(text)``, the same steps and errors without its two Python frames (for a
    status payload they cost a tenth of the decode)."""
    start = _skip_space(text, 0).end() if text[:1] in _SPACE else 0  # (a match costs 70 ns)
    try:
        value, end = _scan(text, start)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text):  # only whitespace may follow
        end = _skip_space(text, end).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return value


_SPACE = " \t\n\r"  # (and "": the empty text goes the long way, to its error)


# The depth check reads the text, not the decoded value: walking a large payload object by object
# in Python costs about as much as decoding it, while these byte operations run at C speed.
_QUOTE_OR_BACKSLASH_ESCAPE = re.compile(rb'\\[\\"]')  # the escapes that hide a quote's role
_QUOTED = re.compile(rb'"[^"]*"')  # a string, once those escapes are gone
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")  # objects and arrays nest alike


def _deeper_than(text: str, raw: bytes | None, limit: int) -> bool:
    """Whether valid JSON ``text`` (``raw`` its UTF-8 bytes, if at hand) nests beyond ``limit``."""
    data = text.encode("utf-8", "surrogatepass") if raw is None else raw
    marks = data.translate(_BRACKETS, _NOT_STRUCTURE)  # only brackets and quotes are left
    if len(marks) <= limit:  # too few brackets to be that deep
        return False
    if b"\\" in data:
        marks = _QUOTE_OR_BACKSLASH_ESCAPE.sub(b"", data).translate(_BRACKETS, _NOT_STRUCTURE)
    # Quotes now alternate open / close, so dropping two adjacent ones leaves every bracket inside
    # or outside a string as it was; the strings still standing hold brackets, and go whole.
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = _QUOTED.sub(b"", marks)
    # Each pass removes the innermost containers: valid JSON is gone after as many passes as it is deep.
    for _ in range(limit):
        if not marks:
            return False
        marks = marks.replace(b"[]", b"")
    return bool(marks)
