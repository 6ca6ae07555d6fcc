"""VirtualClock: flows with real time unless frozen, jumps with advance, never goes back."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge.sandbox import VirtualClock


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=20))
def test_a_frozen_clock_moves_exactly_by_its_advances(steps: list[float]) -> None:
    clock = VirtualClock(start=1000.0, frozen=True)
    for step in steps:
        clock.advance(step)
    assert clock.now() == pytest.approx(1000.0 + sum(steps))


def test_sleep_is_advance() -> None:
    clock = VirtualClock(start=0.0, frozen=True)
    clock.sleep(2.5)
    clock.sleep(-1)  # a negative sleep is no sleep
    assert clock.now() == 2.5


def test_the_clock_refuses_to_go_back() -> None:
    with pytest.raises(ValueError, match="forward"):
        VirtualClock(frozen=True).advance(-1)


def test_an_unfrozen_clock_flows_and_keeps_its_advances() -> None:
    clock = VirtualClock(start=0.0)
    first = clock.now()
    clock.advance(3600)
    assert clock.now() >= first + 3600


def test_freeze_and_unfreeze_keep_the_current_time() -> None:
    clock = VirtualClock(start=50.0)
    clock.advance(10)
    clock.freeze()
    frozen_at = clock.now()
    assert clock.now() == frozen_at
    assert frozen_at >= 60.0
    clock.unfreeze()
    assert clock.now() >= frozen_at
    assert not clock.frozen


def test_concurrent_advances_all_count() -> None:
    clock = VirtualClock(start=0.0, frozen=True)

    def bump() -> None:
        for _ in range(1000):
            clock.advance(1)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == 8000


def test_monotonic_counts_real_time_and_advances_even_when_frozen() -> None:
    clock = VirtualClock(frozen=True)
    first = clock.monotonic()
    clock.advance(5)
    assert clock.monotonic() >= first + 5
