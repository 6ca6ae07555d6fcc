"""Two engines, one behaviour: the transport's rules, run against the sync and the asyncio engine.

Each test runs twice (``engine_kind``: sync, async) against real loopback servers and asserts
the same outcome: what is resent, what raises ``SubmitOutcomeUnknown``, Retry-After, the
deadline budget, error mapping, redirects, strict bodies both ways, the size cap, redaction
and the DEBUG lines.
"""

from __future__ import annotations

import gzip
import logging
import socket
import traceback
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from client.support import CANARY, Reply, ScriptedServer, Waits

import importbridge
from importbridge import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InputError,
    JobNotFound,
    ProviderError,
    RateLimited,
    ResponseTooLarge,
    SubmitOutcomeUnknown,
    TransportError,
    budget,
)
from importbridge.flows import Request
from importbridge.settings import resolve

from .support import Engine

JOB = {"id": "7", "status": "done"}


def _no_canary(error: BaseException) -> None:
    for text in (str(error), repr(error), "".join(traceback.format_exception(error))):
        assert CANARY not in text


# -- what is resent -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_is_retried_on_transient_statuses(engine: Engine, server, waits: Waits, status: int) -> None:
    server.queue(Reply(status, {"message": "busy"}), Reply(status, {"message": "busy"}), Reply(200, JOB))
    assert engine.get("7").id == "7"
    assert server.count("GET") == 3
    assert waits.waits == [0.5, 1.0]


@pytest.mark.parametrize("status", [408, 429, 503])
def test_not_processed_statuses_are_resent_for_a_plain_post(engine: Engine, server, status: int) -> None:
    server.queue(Reply(status, {"message": "later"}), Reply(200, JOB))
    assert engine.submit([{"a": 1}]).id == "7"
    assert server.count("POST") == 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_plain_post_is_never_resent_after_a_maybe_processed_status(engine: Engine, server, status) -> None:
    server.queue(Reply(status, {"message": "oops"}), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown, match="outcome unknown") as caught:
        engine.submit([{"a": 1}])
    assert server.count("POST") == 1
    assert caught.value.method == "POST"


def test_a_post_with_an_idempotency_key_is_resent_under_the_same_key(engine: Engine, server) -> None:
    server.queue(Reply(500, {"message": "oops"}), Reply(action="reset"), Reply(200, JOB))
    assert engine.submit([{"a": 1}], request_id="batch-1").id == "7"
    keys = [seen.headers.get("Idempotency-Key") for seen in server.seen]
    assert keys == ["batch-1", "batch-1", "batch-1"]


def test_a_reset_after_sending_is_retried_for_get_and_unknown_for_post(engine: Engine, server) -> None:
    server.queue(Reply(action="reset"), Reply(200, JOB))
    assert engine.get("7").id == "7"
    server.queue(Reply(action="reset"), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown, match="may have been processed"):
        engine.submit([{"a": 1}])
    assert server.count("POST") == 1


def test_a_read_timeout_is_retried_for_get_and_unknown_for_post(make, server) -> None:
    engine = make(timeout=(2.0, 0.3))
    server.queue(Reply(200, JOB, stall=1.0), Reply(200, JOB))
    assert engine.get("7").id == "7"
    server.queue(Reply(200, JOB, stall=1.0), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown):
        engine.submit([{"a": 1}])
    assert server.count("POST") == 1


@pytest.mark.parametrize("raw", [b'{"id": "7", "sta', b'{"id": "7", "status": "done", "n": NaN}'])
def test_a_truncated_or_non_strict_answer_is_a_lost_answer(engine: Engine, server, raw: bytes) -> None:
    server.queue(Reply(200, raw=raw), Reply(200, JOB))
    assert engine.get("7").id == "7"
    server.queue(Reply(200, raw=raw), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown, match="unreadable body"):
        engine.submit([{"a": 1}])
    assert server.count("POST") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_even_for_post_then_gives_up(make, waits: Waits) -> None:
    policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda v: v, tries=4)
    engine = make(f"http://127.0.0.1:{_closed_port()}", retry=policy)
    with pytest.raises(TransportError, match="after 4 attempt") as caught:
        engine.submit([{"a": 1}])
    assert not isinstance(caught.value, SubmitOutcomeUnknown)
    assert waits.waits == [0.5, 1.0, 2.0]


def test_total_time_bounds_the_retries(make, server, waits: Waits) -> None:
    policy = importbridge.RetryPolicy(
        sleep=waits.sleep, clock=waits.clock, jitter=lambda v: v, tries=100, total=10.0, cap=4.0
    )
    server.default = Reply(503, {"message": "down"})
    with pytest.raises(ProviderError) as caught:
        make(retry=policy).get("7")
    assert caught.value.status == 503
    assert waits.waits == [0.5, 1.0, 2.0, 4.0]
    assert server.count() == 5


# -- Retry-After and the wait's deadline ----------------------------------------------------

NOW = datetime(2026, 5, 15, 10, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        (
            {
                "Retry-After": format_datetime(NOW + timedelta(seconds=7), usegmt=True),
                "Date": format_datetime(NOW, usegmt=True),
            },
            7.0,
        ),
        ({"Retry-After": "soon"}, 0.5),  # unreadable: the backoff's own wait
    ],
)
def test_retry_after_in_all_its_forms(engine: Engine, server, waits: Waits, headers, expected) -> None:
    server.queue(Reply(429, {"message": "slow down"}, headers), Reply(200, JOB))
    engine.get("7")
    assert waits.waits == [expected]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(engine: Engine, server, waits: Waits) -> None:
    server.queue(Reply(429, {"message": "quota"}, {"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        engine.get("7")
    assert caught.value.retry_after == 3600.0
    assert waits.waits == []


def test_the_wait_s_deadline_ends_the_retries(engine: Engine, server, waits: Waits) -> None:
    server.default = Reply(503, {"message": "down"}, {"Retry-After": "2"})
    with budget.limited(1.0), pytest.raises(ProviderError) as caught:
        engine.get("7")
    assert caught.value.status == 503
    assert waits.waits == []  # a 2 s wait cannot fit in the 1 s left
    assert server.count() == 1


def test_the_wait_s_deadline_cuts_a_stalled_answer(engine: Engine, server) -> None:
    server.queue(Reply(200, JOB, stall=3.0))
    with budget.limited(0.2), pytest.raises(TransportError):
        engine.get("7")


# -- error mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (403, AuthenticationError), (404, JobNotFound), (409, ConflictError),
     (400, ProviderError), (422, ProviderError)],
)  # fmt: skip
def test_statuses_map_to_the_error_tree(engine: Engine, server, status: int, error: type) -> None:
    server.queue(Reply(status, {"message": "nope", "code": "E1"}))
    with pytest.raises(error) as caught:
        engine.get("7")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.message == "nope"
    assert caught.value.code == "E1"
    assert server.count() == 1


def test_a_404_on_a_submit_is_not_a_missing_job(engine: Engine, server) -> None:
    server.queue(Reply(404, {"message": "no such object type"}))
    with pytest.raises(ProviderError) as caught:
        engine.submit([{"a": 1}])
    assert type(caught.value) is ProviderError


def test_a_text_error_body_is_the_message(engine: Engine, server) -> None:
    server.queue(Reply(409, "already running"))
    with pytest.raises(ConflictError, match="already running"):
        engine.get("7")


# -- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_is_refused(engine: Engine, server, status: int) -> None:
    elsewhere = ScriptedServer()
    try:
        server.queue(Reply(status, "", {"Location": f"{elsewhere.url}/jobs/7"}))
        with pytest.raises((ConfigurationError, SubmitOutcomeUnknown)) as caught:
            engine.get("7")
        assert "another origin" in str(caught.value)
        assert elsewhere.seen == []
        _no_canary(caught.value)
    finally:
        elsewhere.close()


@pytest.mark.parametrize("status", [302, 303])
def test_a_post_redirected_elsewhere_after_acting_is_an_unknown_outcome(
    engine: Engine, server, status
) -> None:
    server.queue(Reply(status, "", {"Location": "http://localhost:1/jobs/7"}))
    with pytest.raises(SubmitOutcomeUnknown, match="another origin"):
        engine.submit([{"a": 1}])


def test_a_redirect_on_the_same_origin_is_followed(engine: Engine, server) -> None:
    server.queue(Reply(302, "", {"Location": "/jobs/8"}), Reply(200, {"id": "8", "status": "done"}))
    assert engine.get("7").id == "8"
    assert [seen.path for seen in server.seen] == ["/jobs/7", "/jobs/8"]
    assert all(seen.headers.get("x-echo-key") == CANARY for seen in server.seen)


# -- what crosses the wire ------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\ud800", object()])
def test_a_body_json_cannot_carry_is_refused_before_sending(engine: Engine, server, value) -> None:
    with pytest.raises(InputError, match=r"\$\.rows\[0\]\.a"):
        engine.submit([{"a": value}])
    assert server.count() == 0


@pytest.mark.parametrize("value", ["a\nb", " padded", "caf\u00e9\u2603"])
def test_a_header_http_cannot_carry_is_refused_before_sending(engine: Engine, server, value) -> None:
    with pytest.raises(ConfigurationError, match="cannot send header 'X-Trace'"):
        engine.request(Request("GET", "/jobs/7", headers={"X-Trace": value}))
    assert server.count() == 0


def test_a_credential_http_cannot_carry_is_a_configuration_error(make, server) -> None:
    engine = make()
    engine.settings = resolve(engine.provider, {"api_key": "key\n", "base_url": server.url})
    with pytest.raises(ConfigurationError, match="credentials") as caught:
        engine.get("7")
    assert "key\n" not in str(caught.value)
    assert server.count() == 0


def test_an_answer_past_the_cap_is_refused(make, server) -> None:
    engine = make(max_response_bytes=1000)
    server.queue(Reply(200, {"id": "7", "status": "done", "pad": "x" * 2000}))
    with pytest.raises(ResponseTooLarge) as caught:
        engine.get("7")
    assert caught.value.limit == 1000


def test_a_gzip_answer_is_capped_once_decoded(make, server) -> None:
    engine = make(max_response_bytes=10_000)
    bomb = gzip.compress(b'{"id": "7", "status": "done", "pad": "' + b"x" * 1_000_000 + b'"}')
    server.queue(Reply(200, raw=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(ResponseTooLarge):
        engine.get("7")


def test_a_streamed_answer_is_read_in_pieces(engine: Engine, server) -> None:
    server.queue(Reply(200, raw=b"".join(f"{n}\n".encode() for n in range(1, 41))))
    rows = engine.items(engine.provider.failed_rows_flow(engine.ctx(), engine.provider.normalize(JOB)))
    assert [row.row for row in rows] == list(range(1, 41))


# -- secrets and logs -----------------------------------------------------------------------


def test_no_secret_in_errors_or_debug_lines(engine: Engine, server, caplog) -> None:
    server.queue(Reply(401, {"message": f"bad key {CANARY}"}))
    with caplog.at_level(logging.DEBUG, logger="importbridge"), pytest.raises(AuthenticationError) as caught:
        engine.request(Request("GET", f"/jobs/7?token={CANARY}"))
    _no_canary(caught.value)
    assert CANARY not in caplog.text
    assert "GET http://127.0.0.1" in caplog.text


def test_one_debug_line_per_attempt_and_per_retry(engine: Engine, server, caplog) -> None:
    server.queue(Reply(503, {"message": "x"}), Reply(200, JOB))
    with caplog.at_level(logging.DEBUG, logger="importbridge"):
        engine.get("7")
    lines = [r.getMessage() for r in caplog.records if r.name == "importbridge"]
    attempts = [line for line in lines if " -> " in line]
    assert [line.split(" -> ")[1].split()[0] for line in attempts] == ["503", "200"]
    assert [line.split()[1] for line in attempts] == [f"{server.url}/jobs/7"] * 2
    assert sum(line.startswith("retrying GET") for line in lines) == 1


def test_https_to_a_plain_http_port_is_a_configuration_error(make, server) -> None:
    engine = make(f"https://127.0.0.1:{server.port}")
    with pytest.raises(ConfigurationError, match="TLS with") as caught:
        engine.get("7")
    _no_canary(caught.value)
