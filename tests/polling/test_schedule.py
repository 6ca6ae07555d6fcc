"""The pure schedule: bounds, Retry-After, the blind series, and aiming at an estimated finish."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import ConfigurationError, PollPolicy
from importbridge.schedule import Memory, estimate_finish, next_delay

policies = st.builds(
    PollPolicy,
    initial=st.floats(0.1, 10),
    growth=st.floats(1.0, 3.0),
    max_blind_interval=st.floats(1, 60),
    min_interval=st.floats(0.05, 1),
    max_interval=st.floats(1, 600),
    jitter=st.floats(0, 0.5),
    settle=st.floats(0, 2),
    trust=st.floats(0.5, 5),
    random=st.builds(random.Random, st.integers(0, 2**32)),
)


def _simulate(
    policy: PollPolicy, duration: float, *, quantum: float | None, progress: bool
) -> tuple[int, float]:
    """Poll a linear job of ``duration`` seconds from t=0; return (requests, delay after finish)."""
    memory, now, requests = Memory(), 0.0, 0
    while True:
        requests += 1
        if now >= duration:
            return requests, now - duration
        fraction = now / duration
        if quantum:
            fraction = math.floor(fraction / quantum) * quantum
        memory.attempts += 1
        memory.observe(now, fraction if progress else None, None if quantum else 1e-9)
        now += next_delay(policy, memory, now)


@given(
    policies,
    st.lists(st.tuples(st.floats(0, 1e5), st.one_of(st.none(), st.floats(0, 1))), min_size=1, max_size=12),
    st.one_of(st.none(), st.floats(0, 300)),
)
def test_every_delay_is_within_the_policy_bounds(policy, observations, retry_after):
    if policy.min_interval > policy.max_interval:
        return
    memory = Memory()
    for at, fraction in sorted(observations, key=lambda pair: pair[0]):
        memory.observe(at, fraction)
    now = max(at for at, _ in observations)
    delay = next_delay(policy, memory, now, retry_after=retry_after)
    assert delay >= policy.min_interval - 1e-9
    assert delay <= max(policy.max_interval, retry_after or 0.0) + 1e-9
    if retry_after is not None:
        assert delay >= retry_after


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


@given(st.floats(5, 20_000), st.integers(0, 2**16))
def test_with_exact_progress_the_finish_is_noticed_within_settle(duration, seed):
    policy = PollPolicy(random=random.Random(seed))
    requests, delay = _simulate(policy, duration, quantum=None, progress=True)
    assert delay <= policy.settle + 1e-6
    # a handful to learn the rate, then jumps of at most max_interval
    assert requests <= 12 + duration / policy.max_interval


@given(st.floats(60, 20_000), st.sampled_from([0.01, 0.001]), st.integers(0, 2**16))
def test_coarse_progress_is_probed_not_overshot_by_a_whole_step(duration, quantum, seed):
    policy = PollPolicy(random=random.Random(seed))
    _, delay = _simulate(policy, duration, quantum=quantum, progress=True)
    assert delay <= max(quantum * duration / 3, 2 * policy.settle) + 1e-6


@given(st.floats(1, 1e5), st.floats(0.001, 0.5), st.floats(0.1, 100))
def test_the_estimate_window_holds_the_true_finish_of_a_linear_job(job_length, quantum, gap):
    memory = Memory()
    t = 0.0
    while t < job_length:
        memory.observe(t, math.floor(t / job_length / quantum) * quantum)
        t += gap
    window = estimate_finish(memory)
    if window is not None and memory.moved[1] - memory.base[1] > quantum * (1 + 1e-9):
        # a bound, once the progress has moved by more than one step (before that: a guess)
        assert window[0] - 1e-6 <= job_length <= window[1] + 1e-6


def test_an_estimate_is_not_trusted_further_than_its_baseline():
    policy = PollPolicy(jitter=0.0)
    memory = Memory()
    memory.observe(100.0, 0.0)
    memory.observe(101.0, 0.001)  # one second of baseline says the job ends in ~1000 s
    assert next_delay(policy, memory, 101.0) == pytest.approx(policy.trust * 1.0)


def test_a_passed_estimate_falls_back_to_a_growing_series():
    policy = PollPolicy(jitter=0.0)
    memory = Memory()
    memory.observe(0.0, 0.0)
    memory.observe(10.0, 1.0)  # "100 %" but not terminal: finalizing
    first = next_delay(policy, memory, 10.5)
    later = next_delay(policy, memory, 40.0)
    assert first == pytest.approx(policy.initial * 1.0 + (policy.growth - 1) * 0.5)
    assert later > first


@pytest.mark.parametrize(
    ("field", "value"),
    [("initial", 0), ("growth", 0.5), ("jitter", 1.0), ("max_interval", -1), ("deadline", math.inf),
     ("max_attempts", 0), ("min_interval", True)],
)  # fmt: skip
def test_bad_policy_fields_are_named(field, value):
    with pytest.raises(ConfigurationError, match=field):
        PollPolicy(**{field: value})
