"""The token fuzzer, reading only: 10,000 hostile strings per provider, and not one outcome
outside ``TokenError`` or a token its provider may act on.

Each example is read as a client of the provider configured for ``CONFIGURED`` would read it
(``decode`` with or without a key, then ``admit``). Candidates: tokens the library could make
(with tempting context keys and foreign origins), the same after one edit, payloads sealed as a
forger would (the public check, or a signature under the right or a wrong key), and arbitrary
strings. What crosses the network is fuzzed in test_token_attacks.py.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importbridge import JobState, TokenError, get_provider
from importbridge.tokens import MAX_LENGTH, Token, TokenKey, admit, context_names, decode, encode

from .forgery import (
    B64,
    CHARACTERS,
    EDITS,
    HOSTILE,
    JOB_IDS,
    KEY,
    MEMORIES,
    OTHER_KEY,
    PATHS,
    RAW_PAYLOADS,
    TEMPTING_KEYS,
    VALUES,
    body_of,
    corrupt,
    made_pool,
    mutate,
    seal,
)

PROVIDERS = ("micro", "qobra", "talkvalue")
EXAMPLES = 10_000
CONFIGURED = "https://configured.example"
FOREIGN = [
    "http://127.0.0.1:9",
    "http://localhost:9",
    "https://configured.example:8443",
    "https://configured.example.evil.example",
    "http://configured.example",
    "file://",
    "https://",
]


def legitimate_pool(name: str, allowed: list[str]) -> list[Token]:
    """Every combination of job id, subset of the declared context, origin, state and memory."""
    subsets = [combo for size in range(len(allowed) + 1) for combo in itertools.combinations(allowed, size)]
    return [
        Token(
            provider=name,
            job_id=job_id,
            context={key: VALUES[(i + n) % len(VALUES)] for n, key in enumerate(subset)},
            origin=made_for,
            deadline=(None, 1.7e9, 1e11)[i % 3],
            state=state,
            memory=memory,
        )
        for i, (job_id, subset, made_for, state, memory) in enumerate(
            itertools.product(JOB_IDS, subsets, [None, CONFIGURED], [None, *JobState], MEMORIES)
        )
    ]


def candidates(name: str) -> st.SearchStrategy[tuple[str, TokenKey | None]]:
    """(a string a reader may be handed, the reader's key), from every family the module
    docstring names; legitimate tokens, and their edits, are read with the key they were made with."""
    allowed = sorted(context_names(get_provider(name)))
    reader_keys = st.sampled_from([None, KEY])
    legitimate = st.sampled_from(
        [
            (encode(token, key=key), key)
            for index, token in enumerate(legitimate_pool(name, allowed))
            for key in (None, KEY)
        ]
    )
    edited = st.builds(
        lambda made, kind, at, char: (mutate(made[0], kind, at, char), made[1]),
        legitimate,
        st.sampled_from(EDITS),
        st.integers(0, MAX_LENGTH),
        st.sampled_from(CHARACTERS),
    )
    pool = made_pool(name, allowed + list(TEMPTING_KEYS), [None, CONFIGURED, *FOREIGN])
    made = st.sampled_from([encode(token, key=key) for token in pool for key in (None, KEY, OTHER_KEY)])
    sealed = st.builds(
        lambda body, path, value, version, key: seal(corrupt(body, path, value), version=version, key=key),
        st.sampled_from([body_of(encode(token)) for token in pool]),
        st.sampled_from(PATHS),
        st.sampled_from(HOSTILE + VALUES + tuple(FOREIGN)),
        st.sampled_from([1, 2, 2, 3]),
        st.sampled_from([KEY, OTHER_KEY]),
    )
    raw = st.builds(
        lambda raw, version: seal(None, version=version, key=KEY, raw=raw),
        st.sampled_from(RAW_PAYLOADS),
        st.sampled_from([1, 2]),
    )
    shaped = st.builds(
        lambda version, payload, seal, space: f"{space}ib{version}.{payload}.{seal}{space}",
        st.integers(0, 12),
        st.text(B64, max_size=80),
        st.text(B64, max_size=50),
        st.sampled_from(["", " ", "\n"]),
    )
    oversized = st.integers(MAX_LENGTH - 8, MAX_LENGTH + 8).map(lambda n: "ib1." + "A" * n + ".AAAAAAAA")
    hostile = made | sealed | raw | st.text(max_size=40) | shaped | oversized
    return legitimate | edited | st.tuples(hostile, reader_keys)


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_string_is_a_token_error_or_an_admissible_token(name):
    provider = get_provider(name)
    allowed = context_names(provider)
    counts: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, database=None)
    @given(candidates(name))
    def read(candidate: tuple[str, TokenKey | None]) -> None:
        text, key = candidate
        try:
            token = admit(decode(text, key=key), provider, CONFIGURED)
        except TokenError:
            counts["refused"] += 1
            return
        except BaseException as error:
            counts[f"outside the tree: {type(error).__name__}"] += 1
            raise
        assert token.provider == name
        assert set(token.context) <= allowed, token.context
        assert not {"base_url", "api_key", "token"} & set(token.context)
        assert token.origin in (None, CONFIGURED)
        counts["admitted"] += 1

    read()
    print(f"{name}: {dict(counts)}")
    assert set(counts) == {"admitted", "refused"}  # both happen, and nothing else does
    assert counts.total() >= EXAMPLES
