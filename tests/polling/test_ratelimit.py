"""The token bucket: no one-second window ever holds more than ``rate`` requests."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge.ratelimit import TokenBucket

from .polling_fakes import VirtualClock


@given(st.floats(0.5, 50), st.lists(st.floats(0, 0.5), min_size=1, max_size=300))
def test_a_greedy_caller_never_exceeds_the_rate(rate, pauses):
    clock = VirtualClock(0.0)
    bucket = TokenBucket(rate, clock=clock)
    sent: list[float] = []
    for pause in pauses:
        clock.now += pause
        while (wait := bucket.reserve()) > 0:
            clock.now += wait
        sent.append(clock.now)
    for index, start in enumerate(sent):
        in_window = [at for at in sent[index:] if at < start + 1.0 - 1e-9]
        assert len(in_window) <= max(1, int(rate) + 1)
    for earlier, later in itertools.pairwise(sent):
        assert later - earlier >= 1 / rate - 1e-9


def test_hold_pauses_everything_for_retry_after():
    clock = VirtualClock(0.0)
    bucket = TokenBucket(10, clock=clock)
    assert bucket.reserve() == 0
    bucket.hold(30)
    assert bucket.reserve() == pytest.approx(30)
    clock.now = 30.0
    assert bucket.reserve() == pytest.approx(0.1)
    clock.now = 30.1
    assert bucket.reserve() == 0


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (5, 0.5)])
def test_nonsense_rates_are_refused(rate, burst):
    with pytest.raises(ValueError, match=r"rate|burst"):
        TokenBucket(rate, burst=burst, clock=VirtualClock())
