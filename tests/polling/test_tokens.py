"""Resume tokens: round trips, URL safety, integrity, signatures, versions, what a token may
carry, foreign and hostile strings, no secrets."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import (
    ConfigurationError,
    ImportJob,
    JobState,
    PollPolicy,
    PollTimeout,
    Provider,
    Setting,
    TokenError,
)
from importbridge.polling import make_token, wait
from importbridge.schedule import MOVES_KEPT, Move
from importbridge.tokens import (
    MAX_LENGTH,
    VERSION,
    Token,
    TokenKey,
    admit,
    context_names,
    decode,
    encode,
    origin,
    resolve_key,
)

from .forgery import KEY, OTHER_KEY, body_of, corrupt, seal, tokens
from .polling_fakes import FakeProvider, ScriptedClient, VirtualClock, job

#: made by importbridge before tokens recorded their origin (Micro, team-7, running, 3 attempts)
LEGACY = (
    "ib1.eyJjIjp7ImNyZWF0ZWRfYXQiOiIyMDI2LTExLTMwVDEwOjAwOjAwWiIsInRlYW1faWQiOiJ0ZWFtLTcifSwiZCI6MTc2"
    "NDUwMDAwMC4wLCJqIjoiaW1wXzQyIiwibSI6eyJhIjozLCJiIjpbMTc2NDQ5MDAwMC4wLDAuMV0sImwiOjAuNCwicSI6MC4w"
    "MSwidCI6MTc2NDQ5MDAwMC4wLCJ2IjpbMTc2NDQ5MDA2MC4wLDAuNF19LCJwIjoibWljcm8iLCJzIjoicnVubmluZyJ9.qSrujpvg"
)
#: the same code's token for a forged context naming a base URL: readable, but never admitted
LEGACY_FORGED = (
    "ib1.eyJjIjp7ImJhc2VfdXJsIjoiaHR0cDovLzEyNy4wLjAuMTo5LyIsInRlYW1faWQiOiJ0ZWFtLTcifSwiZCI6bnVsbCwi"
    "aiI6ImltcF80MiIsIm0iOnsiYSI6MCwiYiI6bnVsbCwibCI6bnVsbCwicSI6bnVsbCwidCI6bnVsbCwidiI6bnVsbH0sInAi"
    "OiJtaWNybyIsInMiOm51bGx9.tERLQrJJ"
)


class Plain(Provider):
    """A provider with a secret, a base URL, a context setting, a plain setting and a declared key."""

    name = "plain"
    settings = (
        Setting(name="api_key", env="PLAIN_API_KEY", secret=True),
        Setting(name="base_url", env="PLAIN_BASE_URL", default="https://plain.example"),
        Setting(name="team_id", env="PLAIN_TEAM", context=True),
        Setting(name="region", env="PLAIN_REGION", required=False),
    )
    context_keys = ("object_type", "api_key", "region", "base_url")  # the last three never travel


@given(tokens(), st.sampled_from([None, KEY]))
def test_a_token_round_trips_and_is_url_safe(token, key):
    text = encode(token, key=key)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", text)
    assert text.startswith(f"ib{VERSION}." if key is None else "ib2.")
    assert len(text) <= MAX_LENGTH
    back = decode(text, key=key)
    assert back == token
    assert back.memory == token.memory


@given(tokens(), st.sampled_from([None, KEY]), st.data())
def test_any_changed_character_is_caught(token, key, data):
    text = encode(token, key=key)
    index = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from("AbZ09_-.x").filter(lambda char: char != text[index]))
    with pytest.raises(TokenError):
        decode(text[:index] + replacement + text[index + 1 :], key=key)


@given(tokens(), st.sampled_from([None, KEY]), st.integers(1, 20))
def test_a_truncated_token_is_caught(token, key, cut):
    text = encode(token, key=key)
    with pytest.raises(TokenError):
        decode(text[: max(0, len(text) - cut)], key=key)


def test_another_version_gets_a_clear_error():
    text = encode(Token(provider="fake", job_id="1"))
    for version in ("0", "3", "99"):
        with pytest.raises(TokenError, match=f"version {version} is not readable"):
            decode(f"ib{version}" + text[3:])


@pytest.mark.parametrize("foreign", ["12345", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "", "ib1", 42, None])
def test_foreign_input_is_refused_with_a_clear_error(foreign):
    with pytest.raises(TokenError, match="token"):
        decode(foreign)


def test_a_token_made_by_the_previous_release_still_reads():
    token = decode(LEGACY)
    assert (token.provider, token.job_id, token.state) == ("micro", "imp_42", JobState.RUNNING)
    assert token.context == {"team_id": "team-7", "created_at": "2026-11-30T10:00:00Z"}
    assert token.origin is None
    assert token.memory.attempts == 3
    assert decode(LEGACY_FORGED).context["base_url"] == "http://127.0.0.1:9/"  # readable, see below


# -- signed tokens ----------------------------------------------------------------------------


def test_with_a_key_only_tokens_signed_with_it_are_read():
    token = Token(provider="fake", job_id="1", context={"team_id": "t"})
    signed, unsigned = encode(token, key=KEY), encode(token)
    assert decode(signed, key=KEY) == token
    with pytest.raises(TokenError, match="unsigned"):
        decode(unsigned, key=KEY)
    with pytest.raises(TokenError, match="signature does not match"):
        decode(signed, key=OTHER_KEY)
    with pytest.raises(TokenError, match="IMPORTBRIDGE_TOKEN_KEY"):
        decode(signed)  # a reader without the key cannot vouch for it
    payload = signed.split(".")[1]
    with pytest.raises(TokenError, match="signature does not match"):
        decode(seal(None, version=2, key=OTHER_KEY, raw=base64.urlsafe_b64decode(payload + "==")), key=KEY)


def test_the_key_never_shows(caplog):
    secret = "k3y-that-must-not-leak-0123456789"
    key = TokenKey(secret)
    token = Token(provider="fake", job_id="1")
    texts = [repr(key), str(key), encode(token, key=key), repr(resolve_key(secret))]
    for attempt in (
        lambda: decode(encode(token), key=key),
        lambda: decode(encode(token, key=key), key=OTHER_KEY),
    ):
        with pytest.raises(TokenError) as info:
            attempt()
        texts.append(str(info.value))
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert not any(secret in text for text in texts)


def test_the_key_comes_from_the_environment_and_must_be_long_enough():
    assert resolve_key(environ={}) is None
    assert resolve_key(environ={"IMPORTBRIDGE_TOKEN_KEY": ""}) is None
    key = resolve_key(environ={"IMPORTBRIDGE_TOKEN_KEY": "from-the-environment-1234"})
    assert key is not None
    assert key.verify("m", TokenKey("from-the-environment-1234").sign("m"))
    assert resolve_key(KEY) is KEY
    with pytest.raises(ConfigurationError, match="at least 16") as info:
        resolve_key("short-k3y")
    assert "short-k3y" not in str(info.value)
    with pytest.raises(ConfigurationError, match="string or bytes"):
        resolve_key(12345)  # type: ignore[arg-type]


# -- hostile text -----------------------------------------------------------------------------


def test_an_over_long_token_is_refused_before_it_is_decoded():
    with pytest.raises(TokenError, match="at most 4096"):
        decode("ib1." + "A" * 10_000_000 + ".AAAAAAAA")


PLAIN_BODY = body_of(encode(Token(provider="fake", job_id="1")))


def _json(path: str, value: object) -> bytes:
    return json.dumps(corrupt(PLAIN_BODY, path, value)).encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 1400 + b"]" * 1400,  # nested deeper than the decoder goes
        _json("", []),
        _json("d", 1.7e9).replace(b"1700000000.0", b"1e400"),  # out of range for a float
        _json("d", 1.7e9).replace(b"1700000000.0", b"NaN"),  # not JSON
        b"\xff\xfe not utf-8",
        _json("j", "\ud800"),  # a lone surrogate
        _json("m.a", 10**22),
        _json("d", 10**65),
        _json("d", -1),
        _json("s", "finished"),
        _json("m.e", [[1, 2]]),
        _json("m.q", 1.5),
        _json("p", "Fake Provider"),
        _json("c", {"team_id": 7}),
        _json("c", {"team_id": "a\nb"}),
        _json("o", "http://a.example/path"),
        _json("m", None),
    ],
)
def test_a_sealed_but_hostile_payload_is_a_token_error(raw):
    for text, key in ((seal(None, raw=raw), None), (seal(None, version=2, key=KEY, raw=raw), KEY)):
        with pytest.raises(TokenError, match="payload"):
            decode(text, key=key)


def test_a_token_the_reader_would_refuse_is_not_made():
    with pytest.raises(TokenError, match="cannot make"):
        encode(Token(provider="fake", job_id="1", deadline=1e300))
    with pytest.raises(TokenError, match="cannot make"):
        encode(Token(provider="fake", job_id="1", context={"team_id": "\x00"}))


# -- what a token may carry -------------------------------------------------------------------


def test_a_token_carries_only_declared_context():
    assert context_names(Plain()) == {"team_id", "object_type", "created_at", "expires_at"}
    ok = Token(provider="plain", job_id="1", context={"team_id": "t", "object_type": "company"})
    assert admit(ok, Plain()) is ok
    for name in ("base_url", "api_key", "region", "proxies"):
        forged = Token(provider="plain", job_id="1", context={"team_id": "t", name: "http://evil.example"})
        with pytest.raises(TokenError, match=f"'{name}', which a plain token may not carry"):
            admit(forged, Plain())


def test_a_base_url_marked_context_still_never_travels():
    class Careless(Plain):
        name = "careless"
        settings = (*Plain.settings[:1], Setting(name="base_url", env="C_URL", context=True))

    assert "base_url" not in context_names(Careless())


def test_a_token_for_another_origin_is_refused():
    token = Token(provider="plain", job_id="1", origin="https://api.plain.example")
    assert admit(token, Plain(), "https://api.plain.example") is token
    assert admit(
        Token(provider="plain", job_id="1"), Plain(), "https://anything.example"
    )  # made before origins
    with pytest.raises(
        TokenError, match=r"made for https://api\.plain\.example, but the plain client is configured"
    ):
        admit(token, Plain(), "http://127.0.0.1:8080")
    with pytest.raises(TokenError, match="for a plain job; the client talks to fake"):
        admit(token, FakeProvider())


def test_the_previous_releases_forged_token_is_refused():
    micro_like = type("M", (Plain,), {"name": "micro"})()
    admit(decode(LEGACY), micro_like)
    with pytest.raises(TokenError, match="'base_url'"):
        admit(decode(LEGACY_FORGED), micro_like)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://API.Example.com/v1/", "https://api.example.com"),
        ("https://user:pw@api.example.com:443/x", "https://api.example.com"),
        ("http://127.0.0.1:8080/micro", "http://127.0.0.1:8080"),
        ("http://[::1]:80/", "http://[::1]"),
        ("HTTP://localhost:8443", "http://localhost:8443"),
    ],
)
def test_an_origin_is_scheme_host_and_port(url, expected):
    assert origin(url) == expected


# -- tokens a client makes --------------------------------------------------------------------


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


def test_a_client_with_a_key_signs_its_tokens():
    client = ScriptedClient(VirtualClock(), [])
    client.token_key = KEY  # type: ignore[attr-defined]
    text = make_token(client, job("running", 0.2))
    assert text.startswith("ib2.")
    assert decode(text, key=KEY).job_id == "j1"


def test_undeclared_job_context_is_left_out_with_a_warning(caplog):
    class Chatty(FakeProvider):
        def job_context(self, conn, job):  # type: ignore[no-untyped-def]
            return {"team_id": "t", "base_url": "http://evil.example", "shard": "7", "limit": 3}

    client = ScriptedClient(VirtualClock(), [])
    client.provider = Chatty()
    with caplog.at_level(logging.WARNING, logger="importbridge"):
        token = decode(
            make_token(client, ImportJob(provider="fake", id="9", state=JobState.RUNNING, provider_state="r"))
        )
    assert token.context == {"team_id": "t"}
    assert "'shard', which is not a declared context key" in caplog.text


def test_a_deadline_beyond_what_a_token_holds_travels_as_none(clock):
    client = ScriptedClient(clock, [job("running", 0.2)])
    policy = PollPolicy(clock=clock, sleep=clock.sleep, max_attempts=2)
    with pytest.raises(PollTimeout) as caught:
        wait(client, "j1", timeout=1e12, policy=policy)
    assert decode(caught.value.token).deadline is None
    assert decode(make_token(client, job("running"), deadline=1e12)).deadline is None


def test_a_job_without_an_id_has_no_token():
    client = ScriptedClient(VirtualClock(), [])
    with pytest.raises(TokenError, match="no id"):
        make_token(client, job("complete", job_id=None))


def test_a_token_from_before_the_schedule_kept_moves_still_decodes():
    memory = {"t": 100.0, "a": 3, "b": [101.0, 0.0], "v": [104.0, 0.25], "q": 0.001, "l": 0.25}
    token = decode(seal({"p": "micro", "j": "42", "c": {}, "d": None, "s": "running", "m": memory}))
    assert token.memory.attempts == 3
    assert token.memory.moves == (Move(before=101.0, before_value=0.0, after=104.0, to=0.25),)
    assert token.memory.seen == 104.0
    assert token.memory.last == 0.25


@pytest.mark.parametrize(
    "moves", [[[1, 2, 3]], [[1, 2, 3, None]], "x", [[1, 0.2, 3, 0.4]] * (MOVES_KEPT + 1)]
)
def test_malformed_moves_are_a_token_error(moves):
    memory = {"t": 1.0, "a": 0, "q": None, "l": None, "n": None, "e": moves}
    with pytest.raises(TokenError, match="move"):
        decode(seal({"p": "micro", "j": "42", "c": {}, "d": None, "s": None, "m": memory}))
