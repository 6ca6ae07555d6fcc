"""Resume tokens: round trips, URL safety, integrity, versions, foreign strings, no secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import JobState, TokenError
from importbridge.polling import make_token
from importbridge.schedule import MOVES_KEPT, Memory, Move
from importbridge.tokens import VERSION, Token, decode, encode

from .polling_fakes import ScriptedClient, VirtualClock, job

texts = st.text(min_size=1, max_size=40)
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
memories = st.builds(
    Memory,
    started=st.one_of(st.none(), numbers),
    attempts=st.integers(0, 10**6),
    step=st.one_of(st.none(), numbers),
    last=st.one_of(st.none(), numbers),
    seen=st.one_of(st.none(), numbers),
    moves=st.lists(st.builds(Move, before=numbers, before_value=numbers, after=numbers, to=numbers),
                   max_size=MOVES_KEPT).map(tuple),
)
tokens = st.builds(
    Token,
    provider=texts,
    job_id=texts,
    context=st.dictionaries(texts, st.text(max_size=40), max_size=4),
    deadline=st.one_of(st.none(), numbers),
    state=st.one_of(st.none(), st.sampled_from(JobState)),
    memory=memories,
)


@given(tokens)
def test_a_token_round_trips_and_is_url_safe(token):
    text = encode(token)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", text)
    assert text.startswith(f"ib{VERSION}.")
    back = decode(text)
    assert back == token
    assert back.memory == token.memory


@given(tokens, st.data())
def test_any_changed_character_is_caught(token, data):
    text = encode(token)
    index = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from("AbZ09_-.x").filter(lambda char: char != text[index]))
    with pytest.raises(TokenError):
        decode(text[:index] + replacement + text[index + 1 :])


@given(tokens, st.integers(1, 20))
def test_a_truncated_token_is_caught(token, cut):
    text = encode(token)
    with pytest.raises(TokenError):
        decode(text[: max(0, len(text) - cut)])


def test_another_version_gets_a_clear_error():
    text = encode(Token(provider="fake", job_id="1"))
    older = "ib0" + text[3:]
    with pytest.raises(TokenError, match="version 0 is not readable"):
        decode(older)


@pytest.mark.parametrize("foreign", ["12345", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "", "ib1", 42, None])
def test_foreign_input_is_refused_with_a_clear_error(foreign):
    with pytest.raises(TokenError, match="token"):
        decode(foreign)


def test_a_client_token_carries_context_but_never_secrets():
    client = ScriptedClient(VirtualClock(), [])
    text = make_token(client, job("running", 0.2))
    token = decode(text)
    assert token.context["team_id"] == "team-42"
    assert token.state is JobState.RUNNING
    payload = base64.urlsafe_b64decode(text.split(".")[1] + "==").decode()
    assert "team-42" in payload
    assert "sk-secret" not in payload
    assert "sk-secret" not in repr(token)


def test_a_job_without_an_id_has_no_token():
    client = ScriptedClient(VirtualClock(), [])
    with pytest.raises(TokenError, match="no id"):
        make_token(client, job("complete", job_id=None))


def _sealed(body: dict[str, object]) -> str:
    """A token as the format writes it: base64url JSON and the SHA-256 check."""
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    check = base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()).decode()[:8]
    return f"ib{VERSION}.{payload}.{check}"


def test_a_token_from_before_the_schedule_kept_moves_still_decodes():
    memory = {"t": 100.0, "a": 3, "b": [101.0, 0.0], "v": [104.0, 0.25], "q": 0.001, "l": 0.25}
    token = decode(_sealed({"p": "micro", "j": "42", "c": {}, "d": None, "s": "running", "m": memory}))
    assert token.memory.attempts == 3
    assert token.memory.moves == (Move(before=101.0, before_value=0.0, after=104.0, to=0.25),)
    assert token.memory.seen == 104.0
    assert token.memory.last == 0.25


@pytest.mark.parametrize("moves", [[[1, 2, 3]], [[1, 2, 3, None]], "x", [[1, 2, 3, 4]] * (MOVES_KEPT + 1)])
def test_malformed_moves_are_a_token_error(moves):
    memory = {"t": 1.0, "a": 0, "q": None, "l": None, "n": None, "e": moves}
    with pytest.raises(TokenError, match="move"):
        decode(_sealed({"p": "micro", "j": "42", "c": {}, "d": None, "s": None, "m": memory}))
