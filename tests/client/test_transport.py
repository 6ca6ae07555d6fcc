"""The transport over real HTTP on loopback: retries, Retry-After, never a blind resend, error mapping."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import importbridge
from importbridge import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    JobExpired,
    JobNotFound,
    ProviderError,
    RateLimited,
    SubmitOutcomeUnknown,
    TransportError,
)
from importbridge.transport import retry_after_seconds

from .support import CANARY, EchoProvider, Reply, ScriptedServer, Waits

JOB = {"id": "7", "status": "done"}


def transport(client: importbridge.ImportClient) -> importbridge.Transport:
    return client.connection.transport


# -- what is retried ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_is_retried_on_transient_statuses(
    client, server: ScriptedServer, waits: Waits, status: int
) -> None:
    server.queue(Reply(status, {"message": "busy"}), Reply(status, {"message": "busy"}), Reply(200, JOB))
    job = client.get("7")
    assert job.id == "7"
    assert server.count("GET") == 3
    assert waits.waits == [0.5, 1.0]  # expo(0.5) with the identity jitter


@pytest.mark.parametrize("status", [408, 429, 503])
def test_not_processed_statuses_are_retried_even_for_a_plain_post(client, server, status: int) -> None:
    server.queue(Reply(status, {"message": "later"}), Reply(200, JOB))
    assert client.submit([{"a": 1}]).id == "7"
    assert server.count("POST") == 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_plain_post_is_never_resent_after_a_maybe_processed_status(client, server, status: int) -> None:
    server.queue(Reply(status, {"message": "oops"}), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown, match="outcome unknown") as caught:
        client.submit([{"a": 1}])
    assert server.count("POST") == 1
    assert caught.value.method == "POST"
    assert isinstance(caught.value, TransportError)


def test_an_idempotent_post_is_resent_after_500(client, server) -> None:
    server.queue(Reply(500, {"message": "oops"}), Reply(200, JOB))
    _response, body = transport(client).request_json("POST", "/jobs", json={}, idempotent=True)
    assert body == JOB
    assert server.count("POST") == 2


def test_a_reset_after_sending_is_retried_for_get_and_unknown_for_post(client, server) -> None:
    server.queue(Reply(action="reset"), Reply(200, JOB))
    assert client.get("7").id == "7"
    server.queue(Reply(action="reset"), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown, match="may have been processed"):
        client.submit([{"a": 1}])
    assert server.count("POST") == 1


def test_a_read_timeout_is_retried_for_get_and_unknown_for_post(server, waits, echo) -> None:
    policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock)
    with importbridge.connect(
        echo, api_key=CANARY, base_url=server.url, retry=policy, timeout=(2.0, 0.5)
    ) as c:
        server.queue(Reply(200, JOB, stall=1.5), Reply(200, JOB))
        assert c.get("7").id == "7"
        server.queue(Reply(200, JOB, stall=1.5), Reply(200, JOB))
        with pytest.raises(SubmitOutcomeUnknown, match="ReadTimeout"):
            c.submit([{"a": 1}])
    assert server.count("POST") == 1


def test_a_truncated_body_is_a_lost_answer(client, server) -> None:
    server.queue(Reply(200, raw=b'{"id": "7", "sta'), Reply(200, JOB))
    assert client.get("7").id == "7"
    server.queue(Reply(200, raw=b'{"id": "7", "sta'), Reply(200, JOB))
    with pytest.raises(SubmitOutcomeUnknown, match="unreadable body"):
        client.submit([{"a": 1}])
    assert server.count("POST") == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_even_for_post_then_gives_up(waits, echo) -> None:
    policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda v: v, tries=4)
    with (
        importbridge.connect(
            echo, api_key=CANARY, base_url=f"http://127.0.0.1:{closed_port()}", retry=policy
        ) as c,
        pytest.raises(TransportError, match="after 4 attempt") as caught,
    ):
        c.submit([{"a": 1}])
    assert not isinstance(caught.value, SubmitOutcomeUnknown)  # nothing was sent
    assert waits.waits == [0.5, 1.0, 2.0]


def test_total_time_bounds_the_retries(server, waits, echo) -> None:
    policy = importbridge.RetryPolicy(
        sleep=waits.sleep, clock=waits.clock, jitter=lambda v: v, tries=100, total=10.0, cap=4.0
    )
    server.default = Reply(503, {"message": "down"})
    c = importbridge.connect(echo, api_key=CANARY, base_url=server.url, retry=policy)
    with c, pytest.raises(ProviderError) as caught:
        c.get("7")
    assert caught.value.status == 503
    assert caught.value.retryable
    assert sum(waits.waits) <= 10.0
    assert waits.waits == [0.5, 1.0, 2.0, 4.0]  # the next 4.0 would pass the 10 s budget
    assert server.count() == 5


@given(st.integers(min_value=0, max_value=12), st.floats(min_value=0.01, max_value=5), st.floats(0.1, 30))
def test_full_jitter_waits_stay_within_the_exponential_envelope(n: int, base: float, cap: float) -> None:
    policy = importbridge.RetryPolicy(base=base, cap=cap)
    delays = policy.delays()
    for step in range(n + 1):
        wait = next(delays)
        assert 0.0 <= wait <= min(cap, base * 2**step) + 1e-9


# -- Retry-After ----------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured(client, server, waits) -> None:
    server.queue(Reply(429, {"message": "slow down"}, {"Retry-After": "3"}), Reply(200, JOB))
    client.get("7")
    assert waits.waits == [3.0]


def test_retry_after_http_date_is_measured_against_the_server_date(client, server, waits) -> None:
    now = datetime(2026, 5, 15, 10, 0, 0, tzinfo=timezone.utc)
    headers = {"Retry-After": format_datetime(now + timedelta(seconds=7), usegmt=True)}
    server.queue(
        Reply(503, {"message": "x"}, headers | {"Date": format_datetime(now, usegmt=True)}), Reply(200, JOB)
    )
    client.get("7")
    assert waits.waits == [7.0]


def test_retry_after_ms_wins(client, server, waits) -> None:
    server.queue(
        Reply(429, {"message": "x"}, {"retry-after-ms": "1500", "Retry-After": "9"}), Reply(200, JOB)
    )
    client.get("7")
    assert waits.waits == [1.5]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(client, server, waits) -> None:
    server.queue(Reply(429, {"message": "quota"}, {"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        client.get("7")
    assert caught.value.retry_after == 3600.0
    assert waits.waits == []


def test_rate_limited_after_the_attempts_run_out(client, server) -> None:
    server.default = Reply(429, {"message": "slow"}, {"Retry-After": "1"})
    with pytest.raises(RateLimited, match="slow") as caught:
        client.get("7")
    assert caught.value.retry_after == 1.0
    assert server.count() == importbridge.RetryPolicy().tries


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_retry_after_seconds_parses_any_number(seconds: float) -> None:
    assert retry_after_seconds({"Retry-After": repr(seconds)}) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["soon", "", "Mon, 99 Foo"])
def test_unreadable_retry_after_is_ignored(value: str) -> None:
    assert retry_after_seconds({"Retry-After": value}) is None


# -- error mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, JobNotFound),
        (409, ConflictError),
        (400, ProviderError),
        (422, ProviderError),
    ],
)
def test_error_statuses_map_to_the_tree(client, server, status: int, error: type[ProviderError]) -> None:
    server.queue(Reply(status, {"message": f"nope {status}", "code": "why"}))
    with pytest.raises(error, match=f"nope {status}") as caught:
        client.get("7")
    assert type(caught.value) is error
    assert (caught.value.provider, caught.value.status, caught.value.code) == ("echo", status, "why")
    assert server.count() == 1


def test_a_404_on_a_post_is_not_a_missing_job(client, server) -> None:
    server.queue(Reply(404, {"message": "no such table"}))
    with pytest.raises(ProviderError) as caught:
        client.submit([{"a": 1}])
    assert not isinstance(caught.value, JobNotFound)


def test_a_404_past_retention_is_job_expired(client, server) -> None:
    old = (datetime.now(timezone.utc) - timedelta(days=8)).isoformat()
    recent = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    server.default = Reply(404, {"message": "gone"})
    with pytest.raises(JobExpired, match="retention"):
        client.get("7", created_at=old)
    with pytest.raises(JobExpired):
        client.get("7", expires_at=recent)
    with pytest.raises(JobNotFound) as caught:
        client.get("7", created_at=recent)
    assert type(caught.value) is JobNotFound


def test_text_error_bodies_become_the_message(client, server) -> None:
    server.queue(Reply(400, "plain words"))
    with pytest.raises(ProviderError, match="plain words"):
        client.get("7")


# -- URLs, logging, bodies ------------------------------------------------------------------


def test_credentials_never_go_to_another_origin(client) -> None:
    with pytest.raises(ConfigurationError, match="another origin"):
        transport(client).request("GET", "http://elsewhere.invalid/x")


def test_one_debug_line_per_attempt(client, server, caplog) -> None:
    server.queue(Reply(503, {"message": "x"}), Reply(200, JOB))
    with caplog.at_level(logging.DEBUG, logger="importbridge"):
        client.get("7")
    attempts = [r.getMessage() for r in caplog.records if "attempt=" in r.getMessage()]
    assert len(attempts) == 2
    assert attempts[0].startswith(f"GET {server.url}/jobs/7 -> 503 attempt=1 elapsed=")
    assert attempts[1].startswith(f"GET {server.url}/jobs/7 -> 200 attempt=2 elapsed=")


def test_a_seekable_body_is_sent_whole_again_on_retry(client, server) -> None:
    import io

    server.queue(Reply(503, {"message": "x"}), Reply(200, JOB))
    transport(client).request("POST", "/upload", data=io.BytesIO(b"x" * 100_000))
    bodies = [seen.body for seen in server.seen]
    assert bodies == [b"x" * 100_000] * 2


def test_a_one_shot_body_is_not_resent(client, server) -> None:
    server.queue(Reply(503, {"message": "x"}), Reply(200, JOB))
    with pytest.raises(ProviderError):
        transport(client).request("POST", "/upload", data=iter([b"abc"]), idempotent=True)
    assert server.count() == 1


def test_auth_header_is_sent(client, server) -> None:
    server.queue(Reply(200, JOB))
    client.get("7")
    assert server.seen[0].headers["x-echo-key"] == CANARY


def test_base_url_must_be_http(echo: EchoProvider) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        importbridge.connect(echo, api_key="k", base_url="ftp://x")


def test_multipart_files_are_sent_whole_again_on_retry(client, server) -> None:
    import io

    server.queue(Reply(503, {"message": "x"}), Reply(200, JOB))
    upload = io.BytesIO(b"a,b\n1,2\n")
    transport(client).request(
        "POST", "/upload", files={"file": ("rows.csv", upload, "text/csv")}, idempotent=True
    )
    first, second = (seen.body for seen in server.seen)
    assert first.split(b"\r\n")[1:4] == second.split(b"\r\n")[1:4]  # same part (boundaries differ)
    assert b"a,b\n1,2\n" in second
