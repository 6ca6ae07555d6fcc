"""Resume tokens: a wait, frozen into a short URL-safe string that another process can finish.

Two shapes, one payload. ``payload`` is base64url (no padding) of compact JSON holding the
provider, the job id, its context, the origin it was made for, the absolute deadline and
attempts made (a resumed wait keeps its budget), the last state seen (the state-machine guard
carries across processes), and the schedule's memory.

- ``ib1.<payload>.<check>``: unsigned. ``check`` is the first 8 base64url characters of the
  payload's SHA-256: it catches a typo or a truncated copy-paste, but it is public, so anyone
  can forge such a token.
- ``ib2.<payload>.<signature>``: signed, made whenever a token key is set
  (``IMPORTBRIDGE_TOKEN_KEY`` or ``token_key=``). ``signature`` is the HMAC-SHA256 of
  ``ib2.<payload>`` under that key; with a key set, only such tokens are read.

Since a token may be forged, what it can make the library do is bounded where it is read
(``admit``): it may carry only the context its provider declares (settings marked ``context``,
``Provider.context_keys``, and the core's job dates), never a secret setting and never the
base URL, so credentials go only to the origin the reader configured; and a token made for
another origin than the reader's is refused. Anything malformed is a ``TokenError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from . import jsontext
from .errors import TokenError
from .provider import NAME_PATTERN
from .schedule import MOVES_KEPT, Memory, Move
from .states import JobState
from .tokenkey import KEY_VARIABLE, TokenKey, resolve_key

if TYPE_CHECKING:
    from .provider import Provider

__all__ = [
    "CORE_CONTEXT",
    "KEY_VARIABLE",
    "LATEST",
    "MAX_LENGTH",
    "ORIGIN_SETTING",
    "PREFIX",
    "SIGNED",
    "UNSIGNED",
    "VERSION",
    "Token",
    "TokenKey",
    "admit",
    "connection_context",
    "context_names",
    "decode",
    "encode",
    "looks_like_token",
    "origin",
    "resolve_key",
]

PREFIX = "ib"
UNSIGNED = 1
SIGNED = 2
VERSION = UNSIGNED  # the version of unsigned tokens (what a reader without a key expects)
#: longest token read; real ones are a few hundred characters. Checked before anything is decoded.
MAX_LENGTH = 4096
#: context the core adds to every token: dates that turn a 404 past retention into JobExpired
CORE_CONTEXT = ("created_at", "expires_at")
#: the setting that says where requests, and so credentials, go: never taken from a token
ORIGIN_SETTING = "base_url"

_SHAPE = re.compile(r"^ib(\d{1,6})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$")
_VERSIONED = re.compile(r"^ib\d+\.")
_SEAL_LENGTH = {UNSIGNED: 8, SIGNED: 43}  # base64url characters of the check / the HMAC-SHA256
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: the latest epoch second a token holds (year 5138): bounded times (and 0..1 fractions) keep the
#: schedule's arithmetic finite whatever a forged token says
LATEST = 1e11
_MAX_ATTEMPTS = 10**9


@attrs.frozen(kw_only=True)
class Token:
    """The decoded content of a resume token.

    ``origin`` is the ``scheme://host[:port]`` of the base URL the token was made for (None in
    tokens made before origins were recorded).
    """

    provider: str
    job_id: str
    context: Mapping[str, str] = attrs.field(factory=dict)
    origin: str | None = None
    deadline: float | None = None
    state: JobState | None = None
    memory: Memory = attrs.field(factory=Memory, eq=False)


def looks_like_token(text: str) -> bool:
    """Whether a string is meant as a resume token (rather than a job id)."""
    return bool(_VERSIONED.match(text))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: lowercased, without user-info, default ports left out."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


# -- what a provider's tokens may carry ------------------------------------------------------------


def connection_context(provider: Provider) -> frozenset[str]:
    """The settings a token may set when a reader connects: those marked ``context``, never a
    secret and never the base URL."""
    return frozenset(
        setting.name
        for setting in provider.settings
        if setting.context and not setting.secret and setting.name != ORIGIN_SETTING
    )


def connection_settings(provider: Provider, context: Mapping[str, str]) -> dict[str, str]:
    """The entries of an (admitted) token's ``context`` a reader may connect with: its
    provider's ``connection_context`` settings (a team id), never a secret or the base URL."""
    names = connection_context(provider)
    return {name: value for name, value in context.items() if name in names}


def context_names(provider: Provider) -> frozenset[str]:
    """Every context key a token of ``provider`` may carry: its context settings, the keys it
    declares in ``Provider.context_keys`` (unless they name another setting), the core's dates."""
    settings = {setting.name for setting in provider.settings}
    declared = getattr(provider, "context_keys", ())
    extra = {
        name
        for name in (declared if isinstance(declared, (tuple, list, frozenset, set)) else ())
        if isinstance(name, str) and name not in settings and name != ORIGIN_SETTING
    }
    return connection_context(provider) | extra | frozenset(CORE_CONTEXT)


def admit(token: Token, provider: Provider, configured: str | None = None) -> Token:
    """``token`` if a ``provider`` client configured for origin ``configured`` may act on it.

    Refused (``TokenError``): a token of another provider, one whose context holds anything
    the provider does not declare, one made for another origin than ``configured``.
    """
    if token.provider != provider.name:
        raise TokenError(
            f"this resume token is for a {token.provider} job; the client talks to {provider.name}"
        )
    refused = sorted(set(token.context) - context_names(provider))
    if refused:
        shown = ", ".join(repr(name[:40]) for name in refused[:3]) + (", ..." if len(refused) > 3 else "")
        allowed = ", ".join(sorted(context_names(provider)))
        raise TokenError(
            f"this resume token's context names {shown}, which a {provider.name} token may not carry "
            f"(only {allowed}): a token never chooses where requests or credentials go"
        )
    if configured is not None and token.origin is not None and token.origin != configured:
        raise TokenError(
            f"this resume token was made for {token.origin}, but the {provider.name} client is "
            f"configured for {configured}; resume it with the configuration it was made with"
        )
    return token


# -- the text form --------------------------------------------------------------------------------


def _check(payload: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(payload.encode("ascii")).digest()).decode()[:8]


def _body(token: Token) -> dict[str, Any]:
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
    if token.origin is not None:
        body["o"] = token.origin
    return body


def encode(token: Token, *, key: TokenKey | None = None) -> str:
    """The token as a URL-safe string: signed with ``key`` (``ib2``), else unsigned (``ib1``).

    A token that its reader would refuse (a value out of range, an unprintable string) raises
    ``TokenError`` here, so every token made can be read back.
    """
    body = _body(token)
    try:
        _from_body(body)
    except (KeyError, TypeError, ValueError) as error:
        raise TokenError(f"cannot make a resume token of this wait: {error}") from None
    text = json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False)
    payload = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
    if key is None:
        return f"{PREFIX}{UNSIGNED}.{payload}.{_check(payload)}"
    return f"{PREFIX}{SIGNED}.{payload}.{key.sign(f'{PREFIX}{SIGNED}.{payload}')}"


def decode(text: object, *, key: TokenKey | None = None) -> Token:
    """Read a token; anything malformed, altered, of an unknown version, or not signed by
    ``key`` when one is given (unsigned tokens included) raises ``TokenError``."""
    if not isinstance(text, str):
        raise TokenError(f"a resume token is a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise TokenError(f"not a resume token: {len(text)} characters long (tokens are at most {MAX_LENGTH})")
    text = text.strip()
    match = _SHAPE.match(text)
    if match is None:
        if looks_like_token(text):
            raise TokenError("resume token is malformed (truncated or mangled in copying?)")
        raise TokenError(
            f"not an importbridge resume token (they start with '{PREFIX}{UNSIGNED}.' or "
            f"'{PREFIX}{SIGNED}.'): {_UNPRINTABLE.sub('?', text[:24])!r}"
        )
    version, payload, seal = int(match.group(1)), match.group(2), match.group(3)
    _unseal(version, payload, seal, key)
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return _from_body(jsontext.loads(raw))
    except (binascii.Error, ValueError) as error:  # JSONTextError is a ValueError
        raise TokenError(f"resume token payload is unreadable or not a valid wait: {error}") from None
    except (KeyError, TypeError) as error:
        raise TokenError(f"resume token payload is not a valid wait: {error}") from None


def _unseal(version: int, payload: str, seal: str, key: TokenKey | None) -> None:
    """Check the token's seal: its checksum (unsigned) or its signature (signed) under ``key``."""
    if version not in _SEAL_LENGTH:
        raise TokenError(
            f"resume token format version {version} is not readable by this importbridge (it reads "
            f"versions {UNSIGNED} and {SIGNED}); start a new wait from the job id"
        )
    if len(seal) != _SEAL_LENGTH[version]:
        raise TokenError("resume token is malformed (truncated or mangled in copying?)")
    if version == UNSIGNED:
        if key is not None:
            raise TokenError(
                f"this resume token is unsigned, and a token key is set ({KEY_VARIABLE} or token_key=), "
                "so only tokens signed with it are accepted"
            )
        if not hmac.compare_digest(_check(payload), seal):
            raise TokenError("resume token failed its integrity check (altered, or mistyped in copying)")
        return
    if key is None:
        raise TokenError(
            f"this resume token is signed; set {KEY_VARIABLE} (or pass token_key=) to the key it "
            "was signed with to use it"
        )
    if not key.verify(f"{PREFIX}{version}.{payload}", seal):
        raise TokenError("resume token signature does not match (altered, or signed with another key)")


# -- reading the payload --------------------------------------------------------------------------


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if _UNPRINTABLE.search(value):
        raise ValueError(f"{name} holds a character a token does not carry")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _time(value: Any, name: str) -> float | None:
    return _number(value, name, 0.0, LATEST)


def _fraction(value: Any, name: str) -> float | None:
    return _number(value, name, 0.0, 1.0)


def _point(value: Any, name: str) -> tuple[float, float] | None:
    """An observation: (epoch seconds, progress fraction)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2 or None in value:
        raise ValueError(f"{name} must be a pair of numbers")
    return float(_time(value[0], name) or 0.0), float(_fraction(value[1], name) or 0.0)


def _object(body: Any, name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError(f"{name} is not an object")
    missing = [key for key in keys if key not in body]
    if missing:
        raise ValueError(f"{name} lacks {', '.join(missing)}")
    return body


def _moves(value: Any) -> tuple[Move, ...]:
    if not isinstance(value, list) or len(value) > MOVES_KEPT:
        raise ValueError(f"moves must be a list of at most {MOVES_KEPT}, got {value!r}")
    moves = []
    for item in value:
        if not isinstance(item, list) or len(item) != 4:
            raise ValueError(f"a move is four numbers, got {item!r}")
        before, after = _time(item[0], "move"), _time(item[2], "move")
        before_value, to = _fraction(item[1], "move"), _fraction(item[3], "move")
        if before is None or before_value is None or after is None or to is None:
            raise ValueError(f"a move is four numbers, got {item!r}")
        moves.append(Move(before=before, before_value=before_value, after=after, to=to))
    return tuple(moves)


def _memory(body: dict[str, Any], attempts: int) -> Memory:
    """The schedule's memory. Tokens written before it kept moves carry ``b`` (the last poll
    still at the first progress seen) and ``v`` (the first at the latest) instead: one move."""
    last = _fraction(body["l"], "last")
    if "e" in body:
        moves, seen = _moves(body["e"]), _time(body["n"], "seen")
    else:
        base, moved = _point(body.get("b"), "base"), _point(body.get("v"), "moved")
        moves = (
            (Move(before=base[0], before_value=base[1], after=moved[0], to=moved[1]),)
            if base is not None and moved is not None and moved[1] > base[1] and moved[0] > base[0]
            else ()
        )
        seen = None if moved is None else moved[0]
    return Memory(
        started=_time(body["t"], "started"),
        attempts=attempts,
        step=_fraction(body["q"], "step"),
        last=last,
        seen=seen,
        moves=moves,
    )


def _from_body(body: Any) -> Token:
    body = _object(body, "payload", ("p", "j", "c", "d", "s", "m"))
    provider, job_id = _text(body["p"], "provider"), _text(body["j"], "job id")
    if not NAME_PATTERN.match(provider):
        raise ValueError("provider is not a provider name")
    context = body["c"]
    if not isinstance(context, dict):
        raise ValueError("context must be an object")
    for name, value in context.items():
        _text(name, "a context key")
        if not isinstance(value, str) or _UNPRINTABLE.search(value):
            raise ValueError(f"context {name[:40]!r} must be printable text")
    made_for = body.get("o")
    if made_for is not None and _text(made_for, "origin") != origin(made_for):
        raise ValueError("origin must be a scheme://host[:port]")
    memory_body = _object(body["m"], "schedule memory", ("t", "a", "q", "l"))
    attempts = memory_body["a"]
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts <= _MAX_ATTEMPTS:
        raise ValueError(f"attempts must be an integer from 0 to {_MAX_ATTEMPTS}")
    memory = _memory(memory_body, attempts)
    state = body["s"]
    if state is not None and not isinstance(state, str):
        raise ValueError("state must be a state name")
    return Token(
        provider=provider,
        job_id=job_id,
        context=dict(context),
        origin=made_for,
        deadline=_time(body["d"], "deadline"),
        state=JobState(state) if state is not None else None,
        memory=memory,
    )
