"""``importbridge.aio``: the async client on the sandbox, with flows and through a worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import importbridge
import importbridge.aio
from importbridge import ConfigurationError, JobState, PollPolicy, PollTimeout, sandbox

from .support import MicroFlows

ROWS = [{"name": f"Company {n}", "domain": f"company{n}.example.com"} for n in range(150)]


@pytest.fixture
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.run(frozen=True, rate_limit=None) as running:
        yield running


def policy(sb: sandbox.Sandbox, **knobs: Any) -> PollPolicy:
    return PollPolicy(clock=sb.clock.now, sleep=sb.clock.sleep, **knobs)


@pytest.mark.parametrize("provider", [MicroFlows(), "micro"], ids=["flows", "worker-thread"])
def test_submit_wait_and_token_with_flows_or_the_older_methods(sb, provider) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with importbridge.aio.connect(provider, **sb.settings("micro")) as client:
            job = await client.submit(ROWS, idempotency_key="k-1")
            updates: list[JobState] = []
            done = await client.wait(job, policy=policy(sb), on_update=lambda j: updates.append(j.state))
            again = await client.get(str(job.id))
            return job, done, again, updates, client.token(done), [r async for r in client.failed_rows(done)]

    job, done, again, updates, token, failed = asyncio.run(scenario())
    assert job.state is JobState.RUNNING or job.state is JobState.PENDING
    assert done.state is JobState.COMPLETE
    assert done.succeeded == len(ROWS)
    assert again == done
    assert updates[-1] is JobState.COMPLETE
    assert failed == []
    with importbridge.connect("micro", **sb.settings("micro")) as sync:
        assert token == sync.token(done)  # one logic: the same token either way
    assert sb.state()["micro"]["imports"] == 1


class Recording(MicroFlows):
    """Records the thread each status flow runs in."""

    threads: ClassVar[set[str]] = set()

    def get_flow(self, ctx: Any, job_id: str, context: Any) -> Any:
        self.threads.add(threading.current_thread().name)
        return (yield from super().get_flow(ctx, job_id, context))


def test_await_connect_and_flows_run_on_the_event_loop_s_thread(sb) -> None:
    async def scenario() -> JobState:
        client = await importbridge.aio.connect(Recording(), **sb.settings("micro"))
        try:
            job = await client.submit(ROWS, idempotency_key="k-2")
            return (await client.wait(job, policy=policy(sb))).state
        finally:
            await client.close()

    assert asyncio.run(scenario()) is JobState.COMPLETE
    assert Recording.threads == {"MainThread"}


def test_poll_yields_each_change_and_poll_once_steps_a_token(sb) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with importbridge.aio.connect(MicroFlows(), **sb.settings("micro")) as client:
            job = await client.submit(ROWS, idempotency_key="k-3")
            step = await client.poll_once(client.token(job), policy=policy(sb))
            poller = client.poll(step.token, policy=policy(sb))
            states = [snapshot.state async for snapshot in poller]
            return step, states, poller.attempts, poller.job

    step, states, attempts, last = asyncio.run(scenario())
    assert not step.done
    assert step.next_poll_at is not None
    assert states[-1] is JobState.COMPLETE
    assert attempts >= 1
    assert last.state is JobState.COMPLETE


def test_a_wait_past_its_deadline_raises_a_resumable_timeout(sb) -> None:
    sb.configure(speed=1)

    async def scenario() -> PollTimeout:
        async with importbridge.aio.connect(MicroFlows(), **sb.settings("micro")) as client:
            job = await client.submit(ROWS, idempotency_key="k-4")
            with pytest.raises(PollTimeout) as caught:
                await client.wait(job, timeout=30, policy=policy(sb))
            return caught.value

    timeout = asyncio.run(scenario())
    assert timeout.token
    sb.configure(speed=10_000)
    sb.clock.advance(200)
    finished = asyncio.run(importbridge.aio.resume(timeout.token, policy=policy(sb), **sb.settings("micro")))
    assert finished.state is JobState.COMPLETE


def test_wait_all_yields_each_job_once_within_the_rate_limit(sb) -> None:
    sb.configure(rate_limit=10.0)
    limited_before = []

    async def scenario() -> list[Any]:
        async with importbridge.aio.connect(MicroFlows(), **sb.settings("micro")) as client:
            jobs = [await client.submit(ROWS[: 101 + n], idempotency_key=f"w-{n}") for n in range(12)]
            sb.clock.advance(1.0)  # the submits' own one-second window closes
            limited_before.append(sb.state()["micro"]["rate_limited"])
            return [job async for job in client.wait_all(jobs, policy=policy(sb), concurrency=5)]

    finished = asyncio.run(scenario())
    assert len(finished) == 12 == len({job.id for job in finished})
    assert {job.state for job in finished} == {JobState.COMPLETE}
    assert sb.state()["micro"]["rate_limited"] == limited_before[0]  # the bucket kept under 10/s


def test_wait_all_without_a_client_or_credentials_names_the_variable_to_set(sb, monkeypatch) -> None:
    monkeypatch.delenv("QOBRA_API_KEY", raising=False)

    async def scenario() -> None:
        async with importbridge.aio.connect(MicroFlows(), **sb.settings("micro")) as client:
            job = importbridge.ImportJob(provider="qobra", id="1", state=JobState.PENDING, provider_state="x")
            async for _ in importbridge.aio.wait_all([job], clients=[client]):
                pass

    with pytest.raises(ConfigurationError, match="QOBRA_API_KEY"):
        asyncio.run(scenario())


def test_submit_many_runs_the_sync_bulk_logic(sb, tmp_path) -> None:
    async def scenario() -> list[Any]:
        async with importbridge.aio.connect(MicroFlows(), **sb.settings("micro")) as client:
            return await client.submit_many(ROWS * 2, chunk_size=150, checkpoint=tmp_path / "run.journal")

    jobs = asyncio.run(scenario())
    assert len(jobs) == 2
    assert sb.state()["micro"]["imports"] == 2


def test_wait_all_connects_from_the_environment_and_the_tokens(sb, monkeypatch) -> None:
    for key, value in sb.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MICRO_TEAM_ID")  # carried by the tokens' context instead
    with importbridge.connect("micro", **sb.settings("micro")) as sync:
        tokens = [sync.token(sync.submit(ROWS[: 101 + n])) for n in range(3)]

    async def scenario() -> list[Any]:  # built-in micro (no flows here): its gets run in worker threads
        return [job async for job in importbridge.aio.wait_all(tokens, policy=policy(sb))]

    finished = asyncio.run(scenario())
    assert sorted(job.total for job in finished) == [101, 102, 103]
    assert {job.state for job in finished} == {JobState.COMPLETE}
