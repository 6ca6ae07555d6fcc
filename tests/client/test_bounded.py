"""Bounded answers: a decoded-size cap (a gzip bomb is stopped, not retried), strict JSON decoding,
and streamed exports read incrementally past the cap."""

from __future__ import annotations

import json

import pytest

import importbridge
from importbridge import (
    ConfigurationError,
    ProviderError,
    ResponseTooLarge,
    SubmitOutcomeUnknown,
    TransportError,
)
from importbridge.transport import DEFAULT_MAX_RESPONSE_BYTES

from .hostile import HostileServer
from .support import CANARY, Reply

CAP = 64 * 1024


def connect(echo, url: str, waits=None, **options):  # type: ignore[no-untyped-def]
    retry = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock) if waits else None
    return importbridge.connect(echo, api_key=CANARY, base_url=url, retry=retry, **options)


def padded(size: int) -> bytes:
    """A job answer of exactly ``size`` bytes."""
    head = b'{"id": "7", "status": "done", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_the_default_cap_is_64_mib(echo, server) -> None:
    assert DEFAULT_MAX_RESPONSE_BYTES == 64 * 1024 * 1024
    with connect(echo, server.url) as client:
        assert client.connection.transport.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "1024"])
def test_the_cap_must_be_a_positive_number_of_bytes(echo, server, bad) -> None:
    with pytest.raises(ConfigurationError, match="max_response_bytes"):
        connect(echo, server.url, max_response_bytes=bad)


@pytest.mark.parametrize(("size", "fits"), [(CAP - 1, True), (CAP, True), (CAP + 1, False)])
def test_an_answer_up_to_the_cap_is_read_and_one_byte_more_is_refused(
    echo, server, waits, size: int, fits: bool
) -> None:
    server.default = Reply(200, raw=padded(size))
    with connect(echo, server.url, waits, max_response_bytes=CAP) as client:
        if fits:
            assert client.get("7").id == "7"
        else:
            with pytest.raises(ResponseTooLarge, match="max_response_bytes") as caught:
                client.get("7")
            assert caught.value.limit == CAP
    assert server.count() == 1  # never retried


def test_a_gzip_bomb_is_stopped_at_the_cap_and_not_retried(echo) -> None:
    with (
        HostileServer("bomb", bomb_bytes=64 << 20) as server,
        connect(echo, server.url, max_response_bytes=CAP) as c,
    ):
        with pytest.raises(ResponseTooLarge) as caught:
            c.get("7")
        assert isinstance(caught.value, TransportError)
        assert f"{CAP:,} bytes" in str(caught.value)
        assert server.connections == 1


def test_a_too_large_answer_to_a_plain_post_leaves_its_outcome_unknown(echo) -> None:
    """The provider answered 200: it acted, but what it said is lost."""
    with (
        HostileServer("bomb", bomb_bytes=8 << 20) as server,
        connect(echo, server.url, max_response_bytes=CAP) as c,
    ):
        with pytest.raises(SubmitOutcomeUnknown, match="larger than"):
            c.submit([{"a": 1}])
        assert server.connections == 1


def test_a_huge_error_answer_still_maps_to_its_status(echo, server) -> None:
    server.default = Reply(400, "no good " * 1_000_000)
    with connect(echo, server.url, max_response_bytes=CAP) as client, pytest.raises(ProviderError) as caught:
        client.get("7")
    assert caught.value.status == 400
    assert caught.value.message.startswith("no good")


def test_request_without_stream_keeps_its_body_for_the_caller(echo, server) -> None:
    server.default = Reply(200, {"id": "7", "status": "done"})
    with connect(echo, server.url) as client:
        response = client.connection.transport.request("GET", "/jobs/7")
    assert response.json() == {"id": "7", "status": "done"}
    assert response.content == json.dumps({"id": "7", "status": "done"}).encode()


def test_a_streamed_answer_is_read_incrementally_past_the_cap(echo, server) -> None:
    body = b"line\n" * 100_000  # 500 KB, far past the cap
    server.default = Reply(200, raw=body)
    with connect(echo, server.url, max_response_bytes=CAP) as client:
        response = client.connection.transport.request("GET", "/export", stream=True)
        assert b"".join(response.iter_content(8192)) == body


@pytest.mark.importbridge_sandbox(rate_limit=None)
def test_a_failed_row_export_larger_than_the_cap_streams_whole(importbridge_sandbox) -> None:
    rows = [{"email": f"bad-{i}", "first_name": f"P{i}", "company": "Acme"} for i in range(3000)]
    settings = importbridge_sandbox.settings("talkvalue")
    with importbridge.connect("talkvalue", max_response_bytes=CAP, **settings) as client:
        job = client.submit(rows, source_id=7)
        importbridge_sandbox.clock.advance(3600)
        done = client.get(str(job.id))
        failed = list(client.failed_rows(done))
    assert len(failed) == 3000
    assert sum(len(str(row.data)) + 40 for row in failed) > CAP  # the export outgrew the cap


NOT_STRICT = {
    "NaN": b'{"id": "7", "status": "done", "total": NaN}',
    "Infinity": b'{"id": "7", "status": "done", "total": Infinity}',
    "1e400": b'{"id": "7", "status": "done", "total": 1e400}',
    "100k deep": b'{"id": "7", "status": "done", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("raw", NOT_STRICT.values(), ids=list(NOT_STRICT))
def test_an_answer_that_is_not_strict_json_is_an_error_of_our_tree(echo, server, waits, raw: bytes) -> None:
    server.default = Reply(200, raw=raw)
    with connect(echo, server.url, waits) as client:
        with pytest.raises(TransportError, match="unreadable body"):
            client.get("7")  # lost answers are retried, then reported
        with pytest.raises(SubmitOutcomeUnknown, match="unreadable body"):
            client.submit([{"a": 1}])
