"""What an attacker can make of a resume token: strategies for valid, mutated and forged tokens.

The unsigned check is public (the first 8 base64url characters of the payload's SHA-256), so a
forger can seal any payload as ``ib1``; ``seal`` does exactly that. Signed ``ib2`` tokens are
forged with a wrong key, or sealed with the right one to test that even a validly signed
payload cannot carry what its provider does not declare.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from hypothesis import strategies as st

from importbridge import JobState
from importbridge.schedule import MOVES_KEPT, Memory, Move
from importbridge.tokens import Token, TokenKey


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


KEY = TokenKey("test-token-key-0123456789abcdef")
OTHER_KEY = TokenKey("another-token-key-fedcba9876543210")

#: context keys a forger would try: where requests go, credentials, and what a provider reads
TEMPTING_KEYS = (
    "base_url",
    "api_key",
    "token",
    "team_id",
    "created_at",
    "expires_at",
    "region",
    "url",
    "BASE_URL",
    "base_url ",
    "proxies",
    "verify",
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def seal(body: Any, *, version: int = 1, key: TokenKey | None = None, raw: bytes | None = None) -> str:
    """A token around any payload, sealed as a forger would: the public check, or an HMAC."""
    text = (
        raw if raw is not None else json.dumps(body, separators=(",", ":")).encode("utf-8", "surrogatepass")
    )
    payload = b64(text)
    if version == 2 and key is not None:
        return f"ib2.{payload}.{key.sign(f'ib2.{payload}')}"
    check = b64(hashlib.sha256(payload.encode("ascii")).digest())[:8]
    return f"ib{version}.{payload}.{check}"


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=24)
times = st.floats(min_value=0, max_value=1e11, allow_nan=False)
fractions = st.floats(min_value=0, max_value=1, allow_nan=False)
moves = st.builds(Move, before=times, before_value=fractions, after=times, to=fractions)
memories = st.builds(
    Memory,
    started=st.one_of(st.none(), times),
    attempts=st.integers(0, 10**9),
    step=st.one_of(st.none(), fractions),
    last=st.one_of(st.none(), fractions),
    seen=st.one_of(st.none(), times),
    moves=st.lists(moves, max_size=MOVES_KEPT).map(tuple),
)


PROVIDER_NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
SOME_ORIGINS = st.sampled_from([None, "https://api.example.com", "http://127.0.0.1:8080"])


def tokens(
    provider: st.SearchStrategy[str] = PROVIDER_NAMES,
    context_keys: st.SearchStrategy[str] = printable,
    origins: st.SearchStrategy[str | None] = SOME_ORIGINS,
) -> st.SearchStrategy[Token]:
    """Tokens the library itself could make."""
    return st.builds(
        Token,
        provider=provider,
        job_id=printable,
        context=st.dictionaries(
            context_keys, st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30), max_size=4
        ),
        origin=origins,
        deadline=st.one_of(st.none(), times),
        state=st.one_of(st.none(), st.sampled_from(JobState)),
        memory=memories,
    )


# Cheap pools for the fuzzers (10,000 draws per provider): sampling beats building.
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
JOB_IDS = ("imp_1", "42", "7f3a", "../../admin", "1?x=y#z", "a b", "é", "x" * 300)
VALUES = (
    "team-7",
    "2026-11-30T10:00:00Z",
    "2000-01-01T00:00:00+00:00",
    "not a date",
    "",
    "../x",
    "http://127.0.0.1:9/micro",
    "https://evil.example",
    "company",
    "x" * 200,
)
MEMORIES = (
    Memory(),
    Memory(
        started=1.7e9, attempts=3, step=0.01, last=0.4, seen=1.7e9 + 60,
        moves=(Move(before=1.7e9, before_value=0.1, after=1.7e9 + 60, to=0.4),),
    ),
    Memory(
        started=0.0, attempts=10**9, step=1.0, last=1.0, seen=1e11,
        moves=(Move(before=0.0, before_value=0.0, after=1e11, to=1.0),) * MOVES_KEPT,
    ),
    Memory(started=1e11, attempts=0, step=None, last=0.0, seen=None, moves=()),
)
#: values that break naive readers: wrong types, out of range, unprintable, deeply nested
HOSTILE = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    10**30,
    "",
    "x" * 300,
    "\ud800",
    "\x00",
    "NaN",
    [],
    {},
    [1],
    [1, 2],
    [None, None],
    [1.7e9, 2.0],
    [1e12, 0.5],
    {"a": 1},
    ["x"],
    nested(40),
    "running",
    "complete",
    "finished",
    "micro",
    "Micro",
)


def made_pool(provider: str, context_keys: list[str], origins: list[str | None]) -> list[Token]:
    """Tokens the library could make for ``provider`` (and its neighbours): each context key
    alone and with the others, each origin, each state and memory. Sampled from a list, so a
    fuzzer draws one for the price of an index."""
    contexts = [
        {},
        *({name: VALUES[i % len(VALUES)]} for i, name in enumerate(context_keys)),
        {name: "team-7" for name in context_keys[:4]},
    ]
    names = [provider, "micro", "qobra", "talkvalue"]
    states = [None, *JobState]
    return [
        Token(
            provider=names[i % 7 % 4],
            job_id=JOB_IDS[i % len(JOB_IDS)],
            context=context,
            origin=made_for,
            deadline=(None, 1.7e9, 1e11)[i % 3],
            state=states[i % len(states)],
            memory=MEMORIES[i % len(MEMORIES)],
        )
        for i, (context, made_for) in enumerate((c, o) for c in contexts for o in origins)
    ]


def body_of(text: str) -> dict[str, Any]:
    """The payload of a token's text, as the forger starts from it."""
    payload = text.split(".")[1]
    body: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return body


#: where a forger can put a hostile value in a near-valid payload ("" is the payload itself)
PATHS = (
    "",
    "p",
    "j",
    "c",
    "o",
    "d",
    "s",
    "m",
    "m.t",
    "m.a",
    "m.b",
    "m.v",
    "m.q",
    "m.l",
    *(f"c.{name}" for name in TEMPTING_KEYS),
)


def corrupt(body: dict[str, Any], path: str, value: Any) -> Any:
    """``body`` with ``value`` at ``path`` (a copy; "" replaces the whole payload)."""
    if not path:
        return value
    copy = {**body, "c": dict(body["c"]), "m": dict(body["m"])}
    head, _, rest = path.partition(".")
    if rest:
        copy[head][rest] = value
    else:
        copy[head] = value
    return copy


#: payloads that are not JSON a token holds: sealed raw, they must still be a TokenError
RAW_PAYLOADS = (
    b"",
    b"\xff\xfe",
    b"[" * 1400 + b"]" * 1400,
    b'{"p":NaN}',
    b"1e400",
    b'"\\ud800"',
    b"{" * 5,
    b'{"p":"micro","j":"1","c":{},"d":1e999,"s":null,"m":{}}',
    b"\x00" * 10,
    b"null",
)
EDITS = ("change", "insert", "delete", "cut", "splice", "repeat", "case")
CHARACTERS = "AbZ09_-.x=+/ \x00é\ud800"


def mutate(text: str, kind: str, at: int, char: str) -> str:
    """One edit of a token's text at ``at`` (taken modulo its length)."""
    at %= max(1, len(text))
    edits = {
        "change": lambda: text[:at] + char + text[at + 1 :],
        "insert": lambda: text[:at] + char + text[at:],
        "delete": lambda: text[:at] + text[at + 1 :],
        "cut": lambda: text[:at],
        "splice": lambda: text[:at] + text[at // 2 :],
        "repeat": lambda: text * (2 + at % 20),
        "case": lambda: text.swapcase(),
    }
    return edits[kind]()
