"""The wait loop against a scripted client: order of updates, the state guard, deadlines,
attempt budgets, Retry-After, transient failures, the step API and resumed budgets."""

from __future__ import annotations

import logging
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import (
    AuthenticationError,
    ImportJob,
    JobState,
    PollPolicy,
    PollTimeout,
    RateLimited,
    StateRegression,
    TokenError,
    TransportError,
)
from importbridge.polling import make_token, poll, poll_once, wait
from importbridge.tokens import Token, decode, encode

from .polling_fakes import ScriptedClient, VirtualClock, job


def linear(start: float, duration: float, final: str = "complete") -> object:
    """A job that runs from ``start`` for ``duration`` seconds, reporting row counts."""

    def answer(now: float) -> ImportJob:
        done = max(0, min(1000, int((now - start) / duration * 1000)))
        if done >= 1000:
            return job(final, total=1000, processed=1000)
        return job("running", total=1000, processed=done)

    return answer


def test_updates_arrive_in_order_once_per_change_and_partial_is_an_answer(clock, policy):
    script = [
        job("pending"),
        job("running", 0.1),
        job("running", 0.1),
        job("running", 0.5),
        job("partial", 1.0),
    ]
    client = ScriptedClient(clock, script)
    seen: list[tuple[JobState, float | None]] = []
    final = wait(
        client,
        "j1",
        on_update=lambda snapshot: seen.append((snapshot.state, snapshot.progress)),
        policy=policy,
    )
    assert final.state is JobState.PARTIAL
    assert seen == [
        (JobState.PENDING, None), (JobState.RUNNING, 0.1), (JobState.RUNNING, 0.5), (JobState.PARTIAL, 1.0)
    ]  # fmt: skip
    assert len(client.calls) == 5


def test_a_failed_job_is_returned_not_raised(clock, policy):
    client = ScriptedClient(clock, [job("failed")])
    assert wait(client, "j1", policy=policy).state is JobState.FAILED


def test_a_backward_snapshot_is_dropped_logged_and_counted(clock, policy, caplog):
    client = ScriptedClient(
        clock, [job("running", 0.2), job("pending"), job("running", 0.6), job("complete")]
    )
    poller = poll(client, "j1", policy=policy)
    with caplog.at_level(logging.WARNING, logger="importbridge"):
        states = [snapshot.state.value for snapshot in poller]
    assert states == ["running", "running", "complete"]
    assert poller.regressions == 1
    assert any("from running back to pending" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(("remembered", "backwards"), [("complete", "running"), ("partial", "complete")])
def test_a_terminal_state_is_absorbing_even_across_processes(clock, policy, caplog, remembered, backwards):
    client = ScriptedClient(clock, [job(backwards)])
    token = encode(Token(provider="fake", job_id="j1", state=JobState(remembered)))
    with caplog.at_level(logging.WARNING, logger="importbridge"):
        step = poll_once(client, token, policy=policy)
    assert step.done
    assert step.job is not None
    assert step.job.state.value == remembered
    assert any(f"back to {backwards}" in record.getMessage() for record in caplog.records)


def test_strict_mode_raises_on_regression(clock):
    policy = PollPolicy(clock=clock, sleep=clock.sleep, strict=True)
    client = ScriptedClient(clock, [job("running"), job("pending")])
    with pytest.raises(StateRegression) as caught:
        wait(client, "j1", policy=policy)
    assert caught.value.previous.state is JobState.RUNNING
    assert caught.value.snapshot.state is JobState.PENDING


def test_the_deadline_is_never_overshot_by_more_than_one_request(clock, policy):
    client = ScriptedClient(clock, [job("running")], request_time=0.7)
    start = clock.now
    with pytest.raises(PollTimeout) as caught:
        wait(client, "j1", timeout=100, policy=policy)
    assert clock.now <= start + 100 + 0.7 + 1e-9
    assert all(at <= start + 100 + 1e-9 for at, _, _ in client.calls)
    assert client.calls[-1][0] == pytest.approx(start + 100)  # a last look right at the deadline
    assert caught.value.job is not None
    assert caught.value.job.state is JobState.RUNNING
    token = decode(caught.value.token)
    assert token.deadline == pytest.approx(start + 100)
    assert token.memory.attempts == len(client.calls)


def test_the_attempt_budget_stops_the_wait(clock):
    policy = PollPolicy(clock=clock, sleep=clock.sleep, max_attempts=3)
    client = ScriptedClient(clock, [job("running")])
    with pytest.raises(PollTimeout):
        wait(client, "j1", policy=policy)
    assert len(client.calls) == 3


def test_a_resumed_wait_keeps_the_original_deadline_and_attempts(clock, policy):
    client = ScriptedClient(clock, [job("running")], request_time=0.2)
    start = clock.now
    with pytest.raises(PollTimeout) as first:
        wait(client, "j1", timeout=30, policy=policy)
    clock.now = start + 10  # "another process" picks the token up before the deadline... in its past
    clock.now = start + 40  # ...or after it: either way the original budget holds
    with pytest.raises(PollTimeout) as second:
        wait(client, first.value.token, policy=policy)
    assert decode(second.value.token).deadline == pytest.approx(start + 30)
    assert decode(second.value.token).memory.attempts == decode(first.value.token).memory.attempts + 1


def test_retry_after_from_a_429_stretches_the_next_sleep(clock, policy):
    limited = RateLimited("fake", 429, "slow down", retry_after=45.0)
    client = ScriptedClient(clock, [job("running"), limited, job("complete")])
    assert wait(client, "j1", policy=policy).state is JobState.COMPLETE
    assert clock.sleeps[1] >= 45.0


def test_transient_failures_are_ridden_out_but_not_forever(clock, policy):
    blip = TransportError("connection reset", provider="fake")
    assert wait(ScriptedClient(clock, [blip, blip, job("complete")]), "j1", policy=policy).done
    with pytest.raises(TransportError):
        wait(ScriptedClient(clock, [blip, blip, blip, job("complete")]), "j1", policy=policy)


def test_a_refused_credential_is_raised_at_once(clock, policy):
    client = ScriptedClient(clock, [AuthenticationError("fake", 403, "no")])
    with pytest.raises(AuthenticationError):
        wait(client, "j1", policy=policy)
    assert len(client.calls) == 1


def test_a_finished_job_needs_no_request(clock, policy):
    client = ScriptedClient(clock, [])
    finished = job("complete")
    assert wait(client, finished, policy=policy) is finished
    assert client.calls == []


def test_a_fresh_snapshot_waits_an_interval_before_the_first_poll(clock, policy):
    client = ScriptedClient(clock, [job("complete")])
    start = clock.now
    wait(client, job("running"), policy=policy)
    assert client.calls[0][0] > start


def test_a_token_for_another_provider_is_refused(clock, policy):
    client = ScriptedClient(clock, [job("complete")])
    with pytest.raises(TokenError, match="for a qobra job"):
        wait(client, encode(Token(provider="qobra", job_id="x")), policy=policy)


def test_progress_aims_the_poll_just_after_the_finish(clock, policy):
    start = clock.now
    client = ScriptedClient(clock, [linear(start, 600.0)])
    final = wait(client, "j1", policy=policy)
    assert final.state is JobState.COMPLETE
    assert clock.now - (start + 600.0) <= policy.settle + 600.0 / 1000  # settle + one row
    # a few to learn the pace, halving the way to the finish (so a quickening pace is caught), a probe
    assert len(client.calls) <= 16


def test_poll_once_steps_to_the_end_and_carries_its_memory(clock, policy):
    start = clock.now
    client = ScriptedClient(clock, [linear(start, 300.0, final="partial")])
    token = make_token(client, job("pending"))
    steps = 0
    while True:
        step = poll_once(client, token, policy=policy)
        steps += 1
        token = step.token
        if step.done:
            break
        assert step.next_poll_at is not None
        assert step.next_poll_at > clock.now
        clock.now = step.next_poll_at  # the scheduler comes back when told
    assert step.job is not None
    assert step.job.state is JobState.PARTIAL
    assert step.next_poll_at is None
    assert decode(step.token).memory.attempts == steps
    assert clock.now - (start + 300.0) <= policy.settle + 300.0 / 1000


def test_poll_once_past_the_deadline_raises_with_a_token(clock, policy):
    client = ScriptedClient(clock, [job("running")])
    token = make_token(client, job("running"), deadline=clock.now + 5)
    clock.now += 10
    with pytest.raises(PollTimeout) as caught:
        poll_once(client, token, policy=policy)
    assert decode(caught.value.token).job_id == "j1"


def test_a_token_with_its_attempts_spent_makes_no_request(clock):
    policy = PollPolicy(clock=clock, sleep=clock.sleep, max_attempts=2)
    client = ScriptedClient(clock, [job("running")])
    with pytest.raises(PollTimeout) as caught:
        wait(client, "j1", policy=policy)
    calls = len(client.calls)
    with pytest.raises(PollTimeout):
        wait(client, caught.value.token, policy=policy)
    assert len(client.calls) == calls


@given(
    timeout=st.floats(0, 500),
    request_time=st.floats(0, 3),
    initial=st.floats(0.1, 20),
    growth=st.floats(1, 3),
    jitter=st.floats(0, 0.9),
    seed=st.integers(0, 2**16),
)
def test_no_sleep_ever_crosses_the_deadline(timeout, request_time, initial, growth, jitter, seed):
    clock = VirtualClock()
    policy = PollPolicy(
        clock=clock,
        sleep=clock.sleep,
        initial=initial,
        growth=growth,
        jitter=jitter,
        random=random.Random(seed),
    )
    start = clock.now
    client = ScriptedClient(clock, [lambda now: job("running", total=100, processed=int(now - start) % 100)],
                            request_time=request_time)  # fmt: skip
    with pytest.raises(PollTimeout):
        wait(client, "j1", timeout=timeout, policy=policy)
    assert all(at <= start + timeout + 1e-6 for at, _, _ in client.calls)
    assert clock.now <= start + timeout + request_time + 1e-6


def test_a_timeout_says_how_long_the_wait_really_took(clock, policy):
    blip = TransportError("connection reset", provider="fake")
    client = ScriptedClient(clock, [blip, job("running")], request_time=0.5)
    with pytest.raises(PollTimeout, match=r"after 30\.5 s"):  # not counted from the first answer
        wait(client, "j1", timeout=30, policy=policy)
