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
from importbridge.schedule import Memory
from importbridge.tokens import Token, TokenKey

KEY = TokenKey("test-token-key-0123456789abcdef")
OTHER_KEY = TokenKey("another-token-key-fedcba9876543210")

#: context keys a forger would try: where requests go, credentials, and what a provider reads
TEMPTING_KEYS = (
    "base_url", "api_key", "token", "team_id", "created_at", "expires_at", "region", "url",
    "BASE_URL", "base_url ", "proxies", "verify",
)  # fmt: skip


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def seal(body: Any, *, version: int = 1, key: TokenKey | None = None, raw: bytes | None = None) -> str:
    """A token around any payload, sealed as a forger would: the public check, or an HMAC."""
    text = raw if raw is not None else json.dumps(body, separators=(",", ":")).encode("utf-8", "surrogatepass")
    payload = b64(text)
    if version == 2 and key is not None:
        return f"ib2.{payload}.{key.sign(f'ib2.{payload}')}"
    check = b64(hashlib.sha256(payload.encode("ascii")).digest())[:8]
    return f"ib{version}.{payload}.{check}"


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=24)
times = st.floats(min_value=0, max_value=1e11, allow_nan=False)
fractions = st.floats(min_value=0, max_value=1, allow_nan=False)
points = st.one_of(st.none(), st.tuples(times, fractions))
memories = st.builds(
    Memory,
    started=st.one_of(st.none(), times),
    attempts=st.integers(0, 10**9),
    base=points,
    moved=points,
    step=st.one_of(st.none(), fractions),
    last=st.one_of(st.none(), fractions),
)


def tokens(
    provider: st.SearchStrategy[str] = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
    context_keys: st.SearchStrategy[str] = printable,
    origins: st.SearchStrategy[str | None] = st.sampled_from([None, "https://api.example.com", "http://127.0.0.1:8080"]),
) -> st.SearchStrategy[Token]:
    """Tokens the library itself could make."""
    return st.builds(
        Token,
        provider=provider,
        job_id=printable,
        context=st.dictionaries(context_keys, st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30), max_size=4),
        origin=origins,
        deadline=st.one_of(st.none(), times),
        state=st.one_of(st.none(), st.sampled_from(JobState)),
        memory=memories,
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def bodies(provider: str, origins: list[str]) -> st.SearchStrategy[Any]:
    """Payloads a forger might seal: near-valid ones with arbitrary context and origins, or any JSON."""
    context = st.dictionaries(
        st.sampled_from(TEMPTING_KEYS) | st.text(max_size=12),
        st.sampled_from(origins) | st.text(max_size=30) | json_values,
        max_size=5,
    )
    memory = st.fixed_dictionaries(
        {"t": json_values | times, "a": st.integers(-5, 10**12) | json_values, "b": json_values,
         "v": json_values, "q": json_values | fractions, "l": json_values | fractions},
    )  # fmt: skip
    near = st.fixed_dictionaries(
        {
            "p": st.sampled_from([provider, "micro", "qobra", "talkvalue"]) | st.text(max_size=10),
            "j": st.sampled_from(["imp_1", "../../x", "1?x=y", "\u2028", "a" * 200]) | st.text(max_size=20),
            "c": context | json_values,
            "d": st.none() | times | json_values,
            "s": st.sampled_from([state.value for state in JobState]) | json_values,
            "m": memory | json_values,
        },
        optional={"o": st.sampled_from(origins) | json_values},
    )
    return near | json_values


def mutate(text: str, data: st.DataObject) -> str:
    """One edit of a token's text: a changed, inserted or deleted character, a cut, a splice."""
    kind = data.draw(st.sampled_from(["change", "insert", "delete", "cut", "splice", "repeat", "case"]))
    at = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.sampled_from("AbZ09_-.x=+/ \x00é\ud800"))
    if kind == "change":
        return text[:at] + char + text[at + 1 :]
    if kind == "insert":
        return text[:at] + char + text[at:]
    if kind == "delete":
        return text[:at] + text[at + 1 :]
    if kind == "cut":
        return text[:at]
    if kind == "splice":
        return text[:at] + data.draw(st.text(max_size=40)) + text[at:]
    if kind == "repeat":
        return text * data.draw(st.integers(2, 40))
    return text.swapcase()
