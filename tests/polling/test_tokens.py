"""Resume tokens: round trips, URL safety, integrity, versions, foreign strings, no secrets."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import JobState, TokenError
from importbridge.polling import make_token
from importbridge.schedule import Memory
from importbridge.tokens import VERSION, Token, decode, encode

from .polling_fakes import ScriptedClient, VirtualClock, job

texts = st.text(min_size=1, max_size=40)
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
points = st.one_of(st.none(), st.tuples(numbers, numbers))
memories = st.builds(
    Memory,
    started=st.one_of(st.none(), numbers),
    attempts=st.integers(0, 10**6),
    base=points,
    moved=points,
    step=st.one_of(st.none(), numbers),
    last=st.one_of(st.none(), numbers),
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
