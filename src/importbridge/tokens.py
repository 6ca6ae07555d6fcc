"""Resume tokens: a wait, frozen into a short URL-safe string that another process can finish.

Shape: ``ib1.<payload>.<check>``. ``ib1`` names the format version; ``payload`` is base64url
(no padding) of compact JSON; ``check`` is the first 8 base64url characters of the payload's
SHA-256, so a typo or a truncated copy-paste is caught before anything is sent. The check is
not a signature: tokens carry nothing secret (the provider's settings marked ``context`` and
what ``Provider.job_context`` returns, never credentials), so there is nothing to forge that a
caller could not already do with their own credentials.

The payload holds the provider, the job id, its context, the absolute deadline and attempts
made (a resumed wait keeps its budget), the last state and progress seen (the state-machine
guard and the schedule carry across processes), and the schedule's memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import TokenError
from .model import JobState
from .schedule import MOVES_KEPT, Memory, Move

__all__ = ["PREFIX", "VERSION", "Token", "decode", "encode", "looks_like_token"]

VERSION = 1
PREFIX = "ib"
_SHAPE = re.compile(r"^ib(\d+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{8})$")
_VERSIONED = re.compile(r"^ib\d+\.")


@attrs.frozen(kw_only=True)
class Token:
    """The decoded content of a resume token."""

    provider: str
    job_id: str
    context: Mapping[str, str] = attrs.field(factory=dict)
    deadline: float | None = None
    state: JobState | None = None
    memory: Memory = attrs.field(factory=Memory, eq=False)


def looks_like_token(text: str) -> bool:
    """Whether a string is meant as a resume token (rather than a job id)."""
    return bool(_VERSIONED.match(text))


def _check(payload: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(payload.encode("ascii")).digest()).decode()[:8]


def encode(token: Token) -> str:
    """The token as a URL-safe string."""
    memory = token.memory
    body: dict[str, Any] = {
        "p": token.provider,
        "j": token.job_id,
        "c": dict(token.context),
        "d": token.deadline,
        "s": token.state.value if token.state is not None else None,
        "m": {
            "t": memory.started,
            "a": memory.attempts,
            "q": memory.step,
            "l": memory.last,
            "n": memory.seen,
            "e": [[m.before, m.before_value, m.after, m.to] for m in memory.moves],
        },
    }
    text = json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False)
    payload = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{PREFIX}{VERSION}.{payload}.{_check(payload)}"


def decode(text: object) -> Token:
    """Read a token; anything malformed, from another version, or altered raises ``TokenError``."""
    if not isinstance(text, str):
        raise TokenError(f"a resume token is a string, got {type(text).__name__}")
    text = text.strip()
    match = _SHAPE.match(text)
    if match is None:
        if looks_like_token(text):
            raise TokenError("resume token is malformed (truncated or mangled in copying?)")
        raise TokenError(
            f"not an importbridge resume token (they start with '{PREFIX}{VERSION}.'): {text[:24]!r}"
        )
    version, payload, check = int(match.group(1)), match.group(2), match.group(3)
    if version != VERSION:
        raise TokenError(
            f"resume token format version {version} is not readable by this importbridge "
            f"(it reads version {VERSION}); start a new wait from the job id"
        )
    if _check(payload) != check:
        raise TokenError("resume token failed its integrity check (altered, or mistyped in copying)")
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return _from_body(body)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TokenError(f"resume token payload is unreadable: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise TokenError(f"resume token payload is not a valid wait: {error}") from None


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _point(value: Any, name: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{name} must be a pair of numbers, got {value!r}")
    if any(part is None for part in value):
        raise ValueError(f"{name} must be a pair of numbers, got {value!r}")
    return float(_number(value[0], name) or 0.0), float(_number(value[1], name) or 0.0)


def _moves(value: Any) -> tuple[Move, ...]:
    if not isinstance(value, list) or len(value) > MOVES_KEPT:
        raise ValueError(f"moves must be a list of at most {MOVES_KEPT}, got {value!r}")
    moves = []
    for item in value:
        if not isinstance(item, list) or len(item) != 4:
            raise ValueError(f"a move is four numbers, got {item!r}")
        before, before_value, after, to = (_number(part, "move") for part in item)
        if before is None or before_value is None or after is None or to is None:
            raise ValueError(f"a move is four numbers, got {item!r}")
        moves.append(Move(before=before, before_value=before_value, after=after, to=to))
    return tuple(moves)


def _memory(body: dict[str, Any], attempts: int) -> Memory:
    """The schedule's memory. Tokens written before it kept moves carry ``b`` (the last poll
    still at the first progress seen) and ``v`` (the first at the latest) instead: one move."""
    last = _number(body["l"], "last")
    if "e" in body:
        moves, seen = _moves(body["e"]), _number(body["n"], "seen")
    else:
        base, moved = _point(body.get("b"), "base"), _point(body.get("v"), "moved")
        moves = (
            (Move(before=base[0], before_value=base[1], after=moved[0], to=moved[1]),)
            if base is not None and moved is not None and moved[1] > base[1] and moved[0] > base[0]
            else ()
        )
        seen = None if moved is None else moved[0]
    return Memory(
        started=_number(body["t"], "started"),
        attempts=attempts,
        step=_number(body["q"], "step"),
        last=last,
        seen=seen,
        moves=moves,
    )


def _from_body(body: Any) -> Token:
    if not isinstance(body, dict):
        raise ValueError("payload is not an object")
    provider, job_id, context = body["p"], body["j"], body["c"]
    if not isinstance(provider, str) or not provider or not isinstance(job_id, str) or not job_id:
        raise ValueError("provider and job id must be non-empty strings")
    if not isinstance(context, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in context.items()
    ):
        raise ValueError("context must map strings to strings")
    memory_body = body["m"]
    if not isinstance(memory_body, dict):
        raise ValueError("schedule memory is not an object")
    attempts = memory_body["a"]
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        raise ValueError(f"attempts must be a non-negative integer, got {attempts!r}")
    memory = _memory(memory_body, attempts)
    state = body["s"]
    return Token(
        provider=provider,
        job_id=job_id,
        context=context,
        deadline=_number(body["d"], "deadline"),
        state=JobState(state) if state is not None else None,
        memory=memory,
    )
