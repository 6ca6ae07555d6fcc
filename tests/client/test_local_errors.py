"""A local error is local: what cannot be encoded is the caller's error, raised before sending.

Each case runs against a loopback server that counts what reaches it: for the encoding cases it
must receive nothing; for TLS spoken to a plain-HTTP port, one connection and no retry.
"""

from __future__ import annotations

import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import ConfigurationError, InputError, SubmitOutcomeUnknown, TransportError

from .support import CANARY, EchoProvider, Reply, ScriptedServer

NOT_JSON = {
    "NaN": float("nan"),
    "infinity": float("inf"),
    "-infinity": float("-inf"),
    "lone surrogate": "a\ud800b",
    "object": object(),
    "tuple key": {("a", "b"): 1},
}


@pytest.mark.parametrize("value", NOT_JSON.values(), ids=list(NOT_JSON))
def test_a_record_json_cannot_carry_is_an_input_error_naming_where(client, server, value) -> None:
    records = [{"a": 1}, {"a": 2}, {"a": 3, "amount": value}]
    with pytest.raises(InputError, match=r"rows\[2\]\.amount") as caught:
        client.submit(records)
    assert "nothing was sent" in str(caught.value)
    assert not isinstance(caught.value, TransportError)
    assert server.connections == 0


def test_a_record_nested_beyond_reason_is_an_input_error(client, server) -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InputError, match="nested more than"):
        client.submit([{"a": deep}])
    assert server.connections == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=5),
            st.one_of(st.floats(), st.text(), st.integers(), st.none(), st.booleans()),
            max_size=4,
        ),
        max_size=4,
    )
)
def test_every_record_is_either_sent_or_refused_before_sending(records: list[dict[str, object]]) -> None:
    """Never a retry, never "outcome unknown": records are sent, or refused as InputError."""
    server = ScriptedServer()
    server.default = Reply(200, {"id": "7", "status": "done"})
    try:
        with importbridge.connect(EchoProvider(), api_key=CANARY, base_url=server.url) as client:
            try:
                client.submit(records)
            except InputError:
                assert server.connections == 0
            else:
                assert server.count("POST") == 1
    finally:
        server.close()


@pytest.mark.parametrize(
    "key",
    [f"{CANARY}\u20ac", f"{CANARY}\x00", f"{CANARY}\x7f", f"ключ{CANARY}", f"{CANARY}\x1b[0m", f"{CANARY} "],
    ids=["euro", "nul", "del", "cyrillic", "escape", "trailing space"],
)
def test_a_key_http_headers_cannot_carry_is_a_configuration_error(server, echo, key: str) -> None:
    with importbridge.connect(echo, api_key=key, base_url=server.url) as client:
        for call in (lambda: client.get("7"), lambda: client.submit([{"a": 1}])):
            with pytest.raises(ConfigurationError, match="x-echo-key") as caught:
                call()
            for text in (str(caught.value), "".join(traceback.format_exception(caught.value))):
                assert CANARY not in text
    assert server.connections == 0


def test_a_request_header_http_cannot_carry_is_a_configuration_error(client, server) -> None:
    with pytest.raises(ConfigurationError, match="Idempotency-Key"):
        client.connection.transport.request(
            "POST", "/jobs", json={}, headers={"Idempotency-Key": "k\u2603"}, idempotent=True
        )
    assert server.connections == 0


def test_tls_spoken_to_a_plain_http_port_is_a_configuration_error_not_retried(server, echo) -> None:
    tls_url = server.url.replace("http://", "https://")
    with importbridge.connect(echo, api_key=CANARY, base_url=tls_url) as client:
        with pytest.raises(ConfigurationError, match="TLS") as got:
            client.get("7")
        assert server.connections == 1
        with pytest.raises(ConfigurationError, match="TLS") as submitted:
            client.submit([{"a": 1}])
        assert server.connections == 2
    for error in (got.value, submitted.value):
        assert not isinstance(error, SubmitOutcomeUnknown)
        assert CANARY not in str(error)
    assert server.seen == []  # no HTTP request was ever read
