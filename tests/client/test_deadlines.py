"""A wait's deadline bounds everything, against raw-socket servers that never answer properly.

No timing assertion beyond a generous "it did not hang" bound (timeout + 5 s); the overshoot
itself is measured by ``benchmarks/deadlines.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import importbridge
from importbridge import ImportJob, JobState, PollTimeout, TransportError

from .hostile import HostileServer
from .support import CANARY, Reply, ScriptedServer

TIMEOUT = 1.0
HANG = TIMEOUT + 5.0  # far beyond the target (timeout + 1 s): only proves nothing hangs
INTERVAL = 0.3  # the drip and slow-headers servers send a byte this often, forever


def pending(job_id: str) -> ImportJob:
    return ImportJob(provider="echo", id=job_id, state=JobState.PENDING, provider_state="queued")


@pytest.fixture(params=["blackhole", "drip", "slow-headers"])
def stalling(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    with HostileServer(request.param, interval=INTERVAL) as server:
        yield server


def test_a_wait_ends_at_its_deadline_whatever_the_server_does(stalling: HostileServer, echo) -> None:
    # the transport's defaults: a 60 s read timeout and 6 tries would each outlast the wait
    with importbridge.connect(echo, api_key=CANARY, base_url=stalling.url) as client:
        began = time.monotonic()
        with pytest.raises(PollTimeout) as caught:
            client.wait("7", timeout=TIMEOUT)
        took = time.monotonic() - began
    assert took < HANG, f"{stalling.kind}: wait(timeout={TIMEOUT}) took {took:.1f} s"
    assert caught.value.job is None
    assert caught.value.token.startswith("ib1.")  # resumable as ever
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize("kind", ["blackhole", "drip", "slow-headers"])
def test_a_server_that_stalls_only_at_the_last_poll_cannot_stretch_the_wait(kind: str, echo) -> None:
    """The last poll is made at the deadline itself: it gets a moment (``budget.GRACE``), no more."""
    queued = b'{"id": "7", "status": "queued"}'
    with (
        HostileServer(kind, interval=INTERVAL, healthy_for=TIMEOUT - 0.2, healthy_body=queued) as server,
        importbridge.connect(echo, api_key=CANARY, base_url=server.url) as client,
    ):
        began = time.monotonic()
        with pytest.raises(PollTimeout) as caught:
            client.wait("7", timeout=TIMEOUT)
        took = time.monotonic() - began
    assert took < HANG, f"{kind}: wait(timeout={TIMEOUT}) took {took:.1f} s"
    assert caught.value.job is not None  # the healthy polls were seen
    assert caught.value.job.provider_state == "queued"


def test_a_resumed_wait_keeps_to_its_new_deadline(stalling: HostileServer, echo) -> None:
    with importbridge.connect(echo, api_key=CANARY, base_url=stalling.url) as client:
        with pytest.raises(PollTimeout) as first:
            client.wait("7", timeout=0.5)
        began = time.monotonic()
        with pytest.raises(PollTimeout):
            client.wait(first.value.token, timeout=TIMEOUT)
    assert time.monotonic() - began < HANG


def test_wait_all_ends_at_its_deadline(stalling: HostileServer, echo) -> None:
    with importbridge.connect(echo, api_key=CANARY, base_url=stalling.url) as client:
        began = time.monotonic()
        with pytest.raises(PollTimeout) as caught:
            list(importbridge.wait_all([pending("7"), pending("8")], clients=[client], timeout=TIMEOUT))
    assert time.monotonic() - began < HANG
    assert len(caught.value.tokens) == 2


def test_outside_a_wait_the_transports_own_timeouts_hold(echo) -> None:
    """No deadline without a wait: a black hole is cut by the read timeout, then retried."""
    policy = importbridge.RetryPolicy(tries=2, base=0.01)
    with (
        HostileServer("blackhole") as server,
        importbridge.connect(
            echo, api_key=CANARY, base_url=server.url, timeout=(1.0, 0.3), retry=policy
        ) as c,
        pytest.raises(TransportError, match="after 2 attempt"),
    ):
        c.get("7")
    assert server.connections == 2


def test_an_answer_that_arrives_in_time_is_read_whole(echo) -> None:
    """The deadline cuts what is late, not what is slow: a stalled but timely answer is kept."""
    server = ScriptedServer()
    try:
        server.queue(
            Reply(200, {"id": "7", "status": "queued"}, stall=0.3), Reply(200, {"id": "7", "status": "done"})
        )
        with importbridge.connect(echo, api_key=CANARY, base_url=server.url) as client:
            job = client.wait("7", timeout=30, policy=importbridge.PollPolicy(initial=0.05))
        assert job.provider_state == "done"
    finally:
        server.close()
