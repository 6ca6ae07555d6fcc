"""Strict JSON text: what a provider can send, and none of what Python's ``json`` adds.

Python's decoder accepts ``NaN`` and ``Infinity``, turns ``1e400`` into ``inf`` and recurses
without bound. No provider sends any of these, and a job carrying one is not JSON any more, so
every body importbridge decodes (a payload given to ``normalize``, a response read by a
transport, a document given to ``from_json``) goes through ``loads`` here. Its errors are plain
``JSONTextError`` (a ``ValueError``) whose message says what was wrong; each caller turns them
into the error of its own layer (``PayloadError`` for a payload).
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

__all__ = ["JSONTextError", "loads"]


class JSONTextError(ValueError):
    """The text is not strict JSON; the message says why and where."""


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """Decode strict JSON text (UTF-8 when bytes); ``JSONTextError`` for anything else."""
    if not isinstance(text, str):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONTextError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        return _decoder().decode(text)
    except json.JSONDecodeError as exc:
        raise JSONTextError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _Refused as exc:
        raise JSONTextError(f"not JSON: {exc}") from None
    except RecursionError:
        raise JSONTextError("not JSON this library accepts: nested too deeply") from None


class _Refused(ValueError):
    """Raised by the decoder's hooks for a value JSON does not have."""


def _not_json_constant(name: str) -> object:
    raise _Refused(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text[:40]} is out of range for a float")
    return value


@functools.lru_cache(maxsize=1)
def _decoder() -> json.JSONDecoder:
    """One strict decoder, built once: ``json.loads(text, parse_constant=...)`` would build a
    new decoder on every call, which costs about as much as decoding a status payload."""
    return json.JSONDecoder(parse_constant=_not_json_constant, parse_float=_finite_float)
