"""The pure schedule: bounds, Retry-After, the blind and stall series, and learning a job's pace.

Properties are checked over any policy and any monotone progress curve, in virtual time (numbers
in, numbers out); how few requests and how little delay they add up to is the benchmark's job
(benchmarks/polling.py), not a test's.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import ConfigurationError, JobState, PollPolicy, PollTimeout
from importbridge.polling import wait
from importbridge.sandbox.curves import CURVES, normalize_curve, progress_at
from importbridge.schedule import Memory, estimate_finish, next_delay

from .polling_fakes import ScriptedClient, VirtualClock, job

policies = st.builds(
    PollPolicy,
    initial=st.floats(0.1, 10),
    growth=st.floats(1.0, 3.0),
    max_blind_interval=st.floats(1, 60),
    max_stall_interval=st.floats(1, 120),
    min_interval=st.floats(0.05, 1),
    max_interval=st.floats(1, 600),
    jitter=st.floats(0, 0.5),
    settle=st.floats(0, 2),
    trust=st.floats(0.5, 5),
    approach=st.floats(0.1, 0.9),
    probes=st.floats(1, 10),
    probe_interval=st.floats(0.5, 30),
    random=st.builds(random.Random, st.integers(0, 2**32)),
)
#: any monotone curve: a named one, or sorted random points (steps where two share a time)
curves = st.one_of(
    st.sampled_from(sorted(CURVES)).map(lambda name: CURVES[name]),
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=8).map(
        lambda points: normalize_curve(
            list(zip(sorted(p for p, _ in points), sorted(q for _, q in points), strict=True))
        )
    ),
)


def _walk(policy: PollPolicy, curve, duration: float, *, rows: int | None = 1000, start: float = 1e9):
    """Poll a job following ``curve`` for ``duration`` s from ``start``; yield (time, delay) per poll
    until it is done (the final poll's delay is None)."""
    memory, now = Memory(started=start), start
    while True:
        if now >= start + duration:
            yield now, None
            return
        fraction = progress_at(curve, (now - start) / duration)
        if rows:
            fraction = math.floor(fraction * rows + 1e-9) / rows
        memory.observe(now, fraction, 1 / rows if rows else None)
        delay = next_delay(policy, memory, now)
        yield now, delay
        now += delay


@given(
    policies,
    st.lists(st.tuples(st.floats(0, 1e5), st.one_of(st.none(), st.floats(0, 1))), min_size=1, max_size=12),
    st.one_of(st.none(), st.floats(0, 300)),
)
def test_every_delay_is_positive_and_within_the_policy_bounds(policy, observations, retry_after):
    if policy.min_interval > policy.max_interval:
        return
    memory = Memory()
    for at, fraction in sorted(observations, key=lambda pair: pair[0]):
        memory.observe(at, fraction)
    now = max(at for at, _ in observations)
    delay = next_delay(policy, memory, now, retry_after=retry_after)
    assert delay > 0
    assert delay >= policy.min_interval - 1e-9
    assert delay <= max(policy.max_interval, retry_after or 0.0) + 1e-9
    if retry_after is not None:
        assert delay >= retry_after


@given(policies, curves, st.floats(1, 20_000), st.sampled_from([None, 100, 1000]))
def test_along_any_curve_time_only_moves_forward_and_the_caps_hold(policy, curve, duration, rows):
    if policy.min_interval > policy.max_interval:
        return
    times = []
    for at, delay in itertools.islice(_walk(policy, curve, duration, rows=rows), 300):
        times.append(at)
        if delay is not None:
            assert policy.min_interval - 1e-9 <= delay <= policy.max_interval + 1e-9
    assert all(b > a for a, b in itertools.pairwise(times))


@given(
    curves, st.floats(1, 20_000), st.sampled_from([None, 100, 1000]), st.floats(0.05, 1.0), st.integers(0, 99)
)
def test_no_poll_is_made_after_the_deadline(curve, duration, rows, share, seed):
    clock = VirtualClock()
    start, timeout = clock.now, duration * share

    def answer(now: float):
        fraction = progress_at(curve, (now - start) / duration)
        if fraction >= 1.0:
            return job("complete", total=rows, processed=rows) if rows else job("complete", progress=1.0)
        if rows:
            return job("running", total=rows, processed=math.floor(fraction * rows + 1e-9))
        return job("running", progress=fraction)

    client = ScriptedClient(clock, [answer])
    policy = PollPolicy(clock=clock, sleep=clock.sleep, random=random.Random(seed))
    try:
        final = wait(client, "j1", timeout=timeout, policy=policy)
    except PollTimeout:
        pass
    else:
        assert final.state is JobState.COMPLETE
    assert all(at <= start + timeout + 1e-6 for at, _, _ in client.calls)


@given(st.integers(1, 40), st.integers(0, 1000))
def test_without_progress_the_series_grows_by_growth_up_to_its_cap(polls, seed):
    policy = PollPolicy(jitter=0.0, random=random.Random(seed))
    memory, now, delays = Memory(), 0.0, []
    for _ in range(polls):
        memory.observe(now, None)
        delays.append(next_delay(policy, memory, now))
        now += delays[-1]
    expected = [min(policy.max_blind_interval, policy.initial * policy.growth**n) for n in range(polls)]
    assert delays == pytest.approx(expected)


@given(st.integers(1, 40), st.integers(0, 1000))
def test_progress_not_moving_yet_backs_off_to_the_stall_cap(polls, seed):
    policy = PollPolicy(jitter=0.0, random=random.Random(seed))
    memory, now, delays = Memory(), 0.0, []
    for _ in range(polls):
        memory.observe(now, 0.0)
        delays.append(next_delay(policy, memory, now))
        now += delays[-1]
    expected = [min(policy.max_stall_interval, policy.initial * policy.growth**n) for n in range(polls)]
    assert delays == pytest.approx(expected)


@given(st.floats(60, 20_000), st.floats(0.05, 0.95), st.floats(0.01, 0.5))
def test_after_a_stall_a_step_brings_the_estimate_back(idle, at, jump):
    """A job idle at 0 (the schedule backing off) that then jumps is not treated as still idle."""
    policy = PollPolicy(jitter=0.0)
    memory, now = Memory(), 0.0
    while now < idle:
        memory.observe(now, 0.0)
        now += next_delay(policy, memory, now)
    stalled = next_delay(policy, memory, now)
    memory.observe(now, jump)
    window = estimate_finish(memory)
    assert window is not None  # the jump gives a pace: no longer "rate zero"
    assert now <= window[0] <= window[1] < math.inf
    delay = next_delay(policy, memory, now)
    # it does not sleep past the estimated window, and no longer than the stall's own back-off
    # once the window is near
    assert now + delay <= window[1] + policy.settle + 1e-6 or delay <= stalled


@given(st.integers(2, 10), st.floats(10, 1000), st.floats(0.05, 0.95))
def test_steps_are_learnt_as_a_pace_not_as_stalls(steps_seen, period, phase):
    """Progress in steps of 10 %, every ``period`` s, seen at a random phase: the estimate is the
    time of the tenth step, within the brackets the polls put around the steps."""
    memory, now = Memory(), phase * period
    for k in range(steps_seen):
        memory.observe(k * period + phase * period, k / 10)
        memory.observe((k + 1 - phase / 2) * period, k / 10)  # polled again just before the next step
    now = steps_seen * period + phase * period
    memory.observe(now, steps_seen / 10)
    window = estimate_finish(memory)
    assert window is not None
    if steps_seen < 10:
        assert window[0] - 1e-6 <= 10 * period <= window[1] + 1e-6


@given(st.floats(1, 1e5), st.floats(0.001, 0.5), st.floats(0.001, 0.2), st.floats(0, 1))
def test_the_estimate_window_holds_the_true_finish_of_a_linear_job(job_length, quantum, gap, phase):
    memory = Memory()
    t = phase * gap * job_length
    while t < job_length:
        memory.observe(t, math.floor(t / job_length / quantum) * quantum)
        t += gap * job_length
    window = estimate_finish(memory)
    if window is not None and len(memory.moves) >= 2 and memory.last is not None and memory.last < 1.0:
        # a bound once two moves pin the pace down (one move of one step says little about it)
        assert window[0] - 1e-6 * job_length <= job_length <= window[1] + 1e-6 * job_length


@given(st.floats(0.1, 0.9), st.floats(2, 50))
def test_a_slower_pace_moves_the_estimate_later(knee, slowdown):
    """90 % by the knee, then ``slowdown`` times slower: the estimate follows the new pace."""
    memory, t, fast = Memory(), 0.0, 0.9 / knee
    while True:
        fraction = fast * t if t < knee else min(1.0, 0.9 + (t - knee) * fast / slowdown)
        if fraction >= 1.0:
            break
        memory.observe(t, fraction)
        window = estimate_finish(memory)
        if t > knee * 1.5 and window is not None:
            finish = knee + 0.1 * slowdown / fast
            assert window[1] >= min(finish, knee + 3 * (t - knee)) - 1e-6
            return
        t += knee / 20


def test_an_estimate_is_not_trusted_further_than_its_baseline():
    policy = PollPolicy(jitter=0.0)
    memory = Memory()
    memory.observe(100.0, 0.0)
    memory.observe(101.0, 0.001)  # one second of baseline says the job ends in ~1000 s
    assert next_delay(policy, memory, 101.0) == pytest.approx(policy.trust * 1.0, rel=0.11)


def test_a_passed_estimate_falls_back_to_a_growing_series():
    policy = PollPolicy(jitter=0.0)
    memory = Memory()
    memory.observe(0.0, 0.0)
    memory.observe(10.0, 1.0)  # "100 %" but not terminal: finalizing
    first = next_delay(policy, memory, 10.5)
    later = next_delay(policy, memory, 40.0)
    assert first == pytest.approx(policy.initial + (policy.growth - 1) * 0.5)
    assert first < later <= policy.max_stall_interval


@pytest.mark.parametrize(
    ("field", "value"),
    [("initial", 0), ("growth", 0.5), ("jitter", 1.0), ("max_interval", -1), ("deadline", math.inf),
     ("max_attempts", 0), ("min_interval", True), ("approach", 1.0), ("max_stall_interval", 0),
     ("probe_interval", -2)],
)  # fmt: skip
def test_bad_policy_fields_are_named(field, value):
    with pytest.raises(ConfigurationError, match=field):
        PollPolicy(**{field: value})
