"""What crosses the wire, checked at the edge: request bodies and headers before anything is
sent, answers read within a size cap.

A record JSON cannot carry (NaN, infinity, a lone surrogate, an object) or a credential with a
character HTTP headers cannot carry is the caller's to fix: found here, before a byte leaves,
it can never be mistaken for a network failure (retried, or "outcome unknown"). Answers are read
in blocks and decoded (gzip) block by block, so a compressed answer is stopped at its decoded
cap instead of being inflated whole into memory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import requests

__all__ = ["BLOCK", "AnswerTooLarge", "BodyFault", "encode_json", "header_fault", "read_capped"]

#: bytes read (after decoding) at a time
BLOCK = 64 * 1024
#: nesting beyond this is reported as "nested too deeply" (the encoder recurses)
MAX_DEPTH = 500
_SCALARS = (str, int, float, bool, type(None))


class AnswerTooLarge(Exception):
    """Internal: an answer's decoded body passed ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the answer is larger than {limit:,} bytes once decoded")


class BodyFault(Exception):
    """Internal: a request body JSON cannot carry; ``path`` (``$.objects[3].default.price``) says where."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def encode_json(value: Any) -> bytes:
    """``value`` as strict JSON in UTF-8 (no NaN or Infinity, no lone surrogate); ``BodyFault``
    naming the first value at fault otherwise."""
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError):
        pass
    raise _first_fault(value) or BodyFault("$", "cannot be encoded as JSON")


def _first_fault(value: Any) -> BodyFault | None:
    """The first value, depth first, that strict JSON cannot carry (iterative: no recursion limit)."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return BodyFault(path, f"nested more than {MAX_DEPTH} deep")
        fault = _scalar_fault(item)
        if fault:
            return BodyFault(path, fault)
        if isinstance(item, Mapping):
            children = []
            for key, child in item.items():
                if not isinstance(key, _SCALARS) or _scalar_fault(key):
                    return BodyFault(path, f"a key {_describe(key)} is not a JSON object key")
                children.append((child, f"{path}.{key}", depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, (list, tuple)):
            stack.extend(
                (child, f"{path}[{index}]", depth + 1) for index, child in reversed(list(enumerate(item)))
            )
        elif not isinstance(item, _SCALARS):
            return BodyFault(path, f"a {type(item).__name__} is not a JSON value")
    return None


def _scalar_fault(item: Any) -> str:
    if isinstance(item, float) and not math.isfinite(item):
        return f"{item!r} is not a JSON number"
    if isinstance(item, str):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"text with a lone surrogate at character {exc.start} is not UTF-8"
    return ""


def _describe(key: Any) -> str:
    return f"of type {type(key).__name__}" if not isinstance(key, str) else "with a lone surrogate"


def header_fault(value: str) -> str:
    """Why ``value`` cannot be sent as an HTTP header value ("" if it can). Never quotes it:
    header values carry credentials."""
    if value != value.strip():
        return "leading or trailing whitespace"
    for index, char in enumerate(value):
        code = ord(char)
        if char in "\r\n":
            return f"a line break at character {index + 1}"
        if (code < 0x20 and char != "\t") or code == 0x7F:
            return f"a control character at character {index + 1}"
        if code > 0xFF:
            return f"a character outside Latin-1 at character {index + 1} (HTTP headers carry bytes)"
    return ""


def read_capped(response: requests.Response, limit: int, *, prefix: bool = False) -> bytes:
    """The decoded body, read block by block. Past ``limit`` bytes the response is closed and
    ``AnswerTooLarge`` raised, or with ``prefix`` the first ``limit`` bytes returned."""
    body = bytearray()
    for block in response.iter_content(BLOCK):
        body += block
        if len(body) > limit:
            response.close()
            if prefix:
                return bytes(body[:limit])
            raise AnswerTooLarge(limit)
    return bytes(body)
