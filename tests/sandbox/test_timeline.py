"""Timeline: rows processed in order at a fixed speed after a start delay."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from importbridge.sandbox import Phase, Timeline

timelines = st.builds(
    Timeline.begin,
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.integers(min_value=0, max_value=100_000),
    speed=st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
    delay=st.floats(min_value=0, max_value=1e4, allow_nan=False),
)


@given(timelines, st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=2, max_size=10))
def test_progress_never_goes_back_and_stays_in_bounds(timeline: Timeline, offsets: list[float]) -> None:
    seen = [timeline.processed(timeline.accepted_at + offset) for offset in sorted(offsets)]
    assert seen == sorted(seen)
    assert all(0 <= count <= timeline.total for count in seen)


@given(timelines)
def test_phases_follow_the_schedule(timeline: Timeline) -> None:
    if timeline.start_at > timeline.accepted_at:
        assert timeline.phase(timeline.accepted_at) is Phase.PENDING
        assert timeline.processed(timeline.accepted_at) == 0
        assert timeline.started_at(timeline.accepted_at) is None
    assert timeline.phase(timeline.finish_at) is Phase.FINISHED
    assert timeline.processed(timeline.finish_at) == timeline.total
    assert timeline.finished_at(timeline.finish_at) == timeline.finish_at


def test_a_job_runs_at_its_speed() -> None:
    timeline = Timeline.begin(0.0, 100, speed=10.0, delay=1.0)
    assert timeline.phase(0.5) is Phase.PENDING
    assert timeline.processed(3.0) == 20
    assert timeline.phase(3.0) is Phase.RUNNING
    assert timeline.processed(11.0) == 100
