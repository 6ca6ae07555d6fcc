"""Waiting on real sandbox jobs over HTTP, on the sandbox's virtual clock (no real sleeps):
each provider, partial and failed answers, the step API, and a resume in a second process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import importbridge
from importbridge import JobState, PollPolicy, PollTimeout, sandbox
from importbridge.tokens import decode
from importbridge.transport import RetryPolicy


def _row(provider: str, n: int, bad: bool) -> dict[str, Any]:
    """One record for ``provider``; a ``bad`` one is rejected by the provider's rules."""
    if provider == "micro":
        return {"name": f"Co {n}", "domain": "not a domain" if bad else f"co{n}.example.com"}
    if provider == "qobra":
        return {"id": str(n), "amount": "x" if bad else n * 1.5}
    return {"email": "not-an-email" if bad else f"p{n}@example.com"}


OPTIONS: dict[str, dict[str, Any]] = {"micro": {}, "qobra": {"table": "deals"}, "talkvalue": {"source_id": 1}}


def _flows(bad: set[int], size: int = 150) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """provider -> (records, with the ``bad`` ones rejected; submit options)"""
    return {name: ([_row(name, n, n in bad) for n in range(size)], OPTIONS[name]) for name in OPTIONS}


def _policy(sb: sandbox.Sandbox, **fields: Any) -> PollPolicy:
    return PollPolicy(clock=sb.clock.now, sleep=sb.clock.sleep, **fields)


@pytest.mark.parametrize("provider", ["micro", "qobra", "talkvalue"])
def test_wait_follows_each_providers_job_to_its_end(provider):
    records, options = _flows(set())[provider]
    with (
        sandbox.run(frozen=True, seed=2, speed=5.0) as sb,
        importbridge.connect(provider, **sb.settings(provider)) as client,
    ):
        job = client.submit(records, **options)
        updates: list[importbridge.ImportJob] = []
        final = client.wait(job, on_update=updates.append, policy=_policy(sb))
        assert final.state is JobState.COMPLETE
        assert updates[-1] == final
        ranks = [update.state.rank for update in updates]
        assert ranks == sorted(ranks)  # the state machine only moves forward
        # 150 rows at 5 rows/s is a 30 s job: a few requests, not a poll every second
        assert 2 <= sb.state()[provider]["requests_received"] - 1 <= 15


@pytest.mark.parametrize("provider", ["micro", "talkvalue"])
@pytest.mark.parametrize(
    ("bad", "expected"), [({3, 7}, JobState.PARTIAL), (set(range(150)), JobState.FAILED)]
)
def test_partial_and_failed_jobs_are_answers(provider, bad, expected):
    records, options = _flows(bad)[provider]
    with (
        sandbox.run(frozen=True, seed=3) as sb,
        importbridge.connect(provider, **sb.settings(provider)) as client,
    ):
        final = client.wait(client.submit(records, **options), policy=_policy(sb))
        assert final.state is expected


def test_qobra_table_failure_is_a_failed_answer():
    records, options = _flows({5})["qobra"]
    with (
        sandbox.run(frozen=True, seed=3) as sb,
        importbridge.connect("qobra", **sb.settings("qobra")) as client,
    ):
        final = client.wait(client.submit(records, **options), policy=_policy(sb))
        assert final.state is JobState.FAILED  # its only table was rejected
        assert final.tables[0].error is not None


def test_poll_once_steps_a_job_like_a_scheduler_would():
    records, options = _flows(set())["qobra"]
    with (
        sandbox.run(frozen=True, seed=4, speed=2.0) as sb,
        importbridge.connect("qobra", **sb.settings("qobra")) as client,
    ):
        token = client.token(client.submit(records, **options))
        steps = []
        while True:
            step = importbridge.polling.poll_once(client, token, policy=_policy(sb))
            steps.append(step)
            if step.done:
                break
            sb.clock.advance(step.next_poll_at - sb.clock.now())  # the "scheduler" comes back on time
            token = step.token
        assert steps[-1].job.state is JobState.COMPLETE
        assert 3 <= len(steps) <= 15
        assert decode(steps[-1].token).memory.attempts == len(steps)


RESUME = textwrap.dedent(
    """
    import json, sys
    import requests
    import importbridge
    from importbridge import PollPolicy

    url, token = sys.argv[1], sys.argv[2]
    def now():
        return requests.get(url + "/_sandbox/clock", timeout=10).json()["now"]
    def sleep(seconds):
        requests.post(url + "/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10)
    job = importbridge.resume(token, policy=PollPolicy(clock=now, sleep=sleep))
    print(json.dumps({"state": job.state.value, "succeeded": job.succeeded, "now": now()}))
    """
)


def test_a_timed_out_wait_resumes_in_a_second_process_within_its_budget():
    records, options = _flows(set(), size=600)["micro"]
    with sandbox.run(frozen=True, seed=5, speed=2.0) as sb:  # 600 rows: a 300 s job
        with importbridge.connect("micro", **sb.settings("micro")) as client:
            job = client.submit(records, **options)
            started = sb.clock.now()
            with pytest.raises(PollTimeout) as caught:  # 4 polls allowed here, 400 s overall
                client.wait(job, timeout=400, policy=_policy(sb, max_attempts=4))
        assert caught.value.job is not None
        assert caught.value.job.state is JobState.RUNNING
        token = caught.value.token
        deadline = decode(token).deadline
        assert deadline == pytest.approx(started + 400)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MICRO_", "QOBRA_", "TALKVALUE_"))
        }
        env.update(sb.env)  # credentials come from the environment, never from the token
        del env["MICRO_TEAM_ID"]  # ...and the team from the token's context
        assert decode(token).memory.attempts == 4  # the first process gave up on its attempt budget
        result = subprocess.run(
            [sys.executable, "-c", RESUME.replace("PollPolicy(clock=now, sleep=sleep)",
                                                  "PollPolicy(clock=now, sleep=sleep, max_attempts=60)"),
             sb.url, token],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        assert outcome["state"] == "complete"
        assert outcome["succeeded"] == 600
        assert outcome["now"] <= deadline + 1.0  # finished inside the original budget


def test_wait_all_over_three_providers_keeps_the_rate_limit(monkeypatch):
    with sandbox.run(frozen=True, seed=6, speed=20.0) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        clients = {name: importbridge.connect(name) for name in OPTIONS}  # from the environment
        items: list[importbridge.ImportJob | str] = []
        for name, client in clients.items():
            for size in (120, 300, 900) * (8 if name == "micro" else 2):
                job = client.submit([_row(name, n, n == 7) for n in range(size)], **OPTIONS[name])
                items.append(client.token(job) if name == "qobra" else job)  # tokens and jobs mix
        sync = clients["micro"].submit([_row("micro", n, False) for n in range(10)])  # answered inline
        items.append(sync)
        sb.clock.advance(1.0)  # the submits' own one-second window closes
        limited_before = sb.state()["micro"]["rate_limited"]  # (submitting at one instant met 429s)
        seen = []
        caller_updates = []
        stream = importbridge.wait_all(
            items,
            clients=[clients["micro"]],
            concurrency=8,
            on_update=caller_updates.append,
            policy=_policy(sb),
        )  # qobra and talkvalue: connected by wait_all itself, tokens' context included
        seen.extend(stream)
        for client in clients.values():
            client.close()
        state = sb.state()
    assert len(seen) == len(items)
    assert seen[0] is sync  # already finished: yielded before any request
    assert all(job.done for job in seen)
    expected = {"micro": JobState.PARTIAL, "talkvalue": JobState.PARTIAL, "qobra": JobState.FAILED}
    assert all(job.state is expected[job.provider] for job in seen[1:])  # row 7 of each was rejected
    assert len({(job.provider, job.id) for job in seen}) == len(seen)
    assert state["micro"]["rate_limited"] == limited_before  # 24 Micro jobs, never over 10 requests/s
    assert caller_updates


def test_a_token_older_than_the_retention_gets_job_expired():
    records, options = _flows(set())["micro"]
    # The client dates a 404 against the real clock, so the sandbox's virtual time starts in 2023;
    # the token carries the job's created_at, which is what makes the 404 a JobExpired.
    with (
        sandbox.run(frozen=True, seed=7, start=1_700_000_000.0) as sb,
        importbridge.connect("micro", **sb.settings("micro")) as client,
    ):
        token = client.token(client.submit(records, **options))
        assert "created_at" in decode(token).context
        sb.clock.advance(8 * 24 * 3600)  # Micro keeps jobs 7 days
        with pytest.raises(importbridge.JobExpired, match="retention"):
            client.wait(token, policy=_policy(sb))


def test_a_429_and_5xx_blips_do_not_end_a_wait():
    records, options = _flows(set())["micro"]
    with (
        sandbox.run(frozen=True, seed=8, speed=5.0) as sb,
        importbridge.connect("micro", retry=RetryPolicy(tries=1), **sb.settings("micro")) as client,
    ):  # no transport retries: every fault reaches the wait itself
        job = client.submit(records, **options)
        sb.faults.script(kind="429", method="GET", path="/micro/v2/prism/*/imports/*", times=1)
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            sb.clock.sleep(seconds)

        final = client.wait(job, policy=PollPolicy(clock=sb.clock.now, sleep=sleep))
        sb.faults.script(kind="503", method="GET", path="/micro/v2/prism/*/imports/*", times=2)
        again = client.wait(job.id, policy=_policy(sb))  # two 503s in a row, then the answer
        faults = sb.state()["micro"]["faults"]
    assert final.state is JobState.COMPLETE
    assert again == final
    assert sleeps[1] >= 1.0  # the 429's Retry-After: 1 s, where the schedule said 1.5 s at most
    assert faults == {"429": 1, "503": 2}


@pytest.mark.parametrize(("kind", "times", "timeout"), [("503", 5, 3.0), ("429", 4, 1.5)])
def test_the_transports_own_retries_do_not_carry_a_wait_past_its_deadline(kind, times, timeout):
    records, options = _flows(set())["micro"]
    with sandbox.run(frozen=True, seed=9, speed=0.01) as sb:
        retry = RetryPolicy(clock=sb.clock.now, sleep=sb.clock.sleep, jitter=lambda wait: wait)
        with importbridge.connect("micro", retry=retry, **sb.settings("micro")) as client:
            job = client.submit(records, **options)
            sb.faults.script(kind=kind, method="GET", path="/micro/v2/prism/*/imports/*", times=times)
            start = sb.clock.now()
            with pytest.raises(PollTimeout) as caught:
                client.wait(str(job.id), timeout=timeout, policy=_policy(sb))
            ended = sb.clock.now()
    # unbounded, the transport alone would sleep 0.5+1+2+4 s (503) or 4 x Retry-After 1 s (429)
    assert ended <= start + timeout + 1e-6
    assert decode(caught.value.token).deadline == pytest.approx(start + timeout)
