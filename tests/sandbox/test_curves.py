"""Progress curves: named shapes and scripted points, in the timeline, run(), configure, HTTP, CLI."""

from __future__ import annotations

import argparse
import math

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

import importbridge
from importbridge import sandbox
from importbridge.sandbox import Timeline
from importbridge.sandbox.command import add_arguments
from importbridge.sandbox.curves import CURVES, normalize_curve, progress_at, time_at

fractions = st.floats(0, 1)
scripted = st.lists(st.tuples(fractions, fractions), min_size=1, max_size=10).map(
    lambda points: normalize_curve(
        list(zip(sorted(t for t, _ in points), sorted(p for _, p in points), strict=True))
    )
)
curves = st.one_of(st.sampled_from(sorted(CURVES)).map(lambda name: CURVES[name]), scripted)


@given(curves, st.lists(st.floats(-1, 2), min_size=2, max_size=20))
def test_progress_never_goes_back_and_stays_in_bounds(curve, times):
    seen = [progress_at(curve, at) for at in sorted(times)]
    assert seen == sorted(seen)
    assert all(0.0 <= value <= 1.0 for value in seen)
    assert progress_at(curve, 1.0) == 1.0


@given(curves, fractions)
@example(((0.0, 0.0), (0.75, 5e-324), (1.0, 1.0)), 5e-324)  # a subnormal step: once gave 1.0
def test_time_at_is_when_the_curve_first_gets_there(curve, done):
    at = time_at(curve, done)
    assert 0.0 <= at <= 1.0
    assert progress_at(curve, at) >= done - 1e-9
    if at > 1e-9:
        assert progress_at(curve, at - 1e-9 - 1e-9 * at) <= done + 1e-6


def test_the_named_shapes():
    assert progress_at(CURVES["steps"], 0.19) == pytest.approx(0.1)
    assert progress_at(CURVES["steps"], 0.2) == pytest.approx(0.2)
    assert progress_at(CURVES["steps"], 0.999) == pytest.approx(0.9)
    assert progress_at(CURVES["idle-then-linear"], 0.29) == 0.0
    assert progress_at(CURVES["fast-then-tail"], 0.5) == pytest.approx(0.9)
    assert progress_at(CURVES["accelerating"], 0.5) == pytest.approx(0.25)
    assert progress_at(CURVES["decelerating"], 0.25) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("zigzag", "unknown progress curve 'zigzag'"),
        ([], "a progress curve is a name"),
        ([(0.5, 0.5), (0.4, 0.6)], "point 2 .* goes back"),
        ([(0.5, 1.5)], "point 1's progress must be a number from 0 to 1"),
        ([(0.5,)], "point 1 must be a \\(time, progress\\) pair"),
        ([(True, 0.5)], "point 1's time"),
        (3, "a progress curve is a name"),
    ],
)
def test_a_bad_curve_is_named(spec, message):
    with pytest.raises(ValueError, match=message):
        normalize_curve(spec)


def test_points_are_completed_to_start_at_zero_and_end_at_one():
    assert normalize_curve([[0.5, 0.9]]) == ((0.0, 0.0), (0.5, 0.9), (1.0, 1.0))


def test_a_timeline_follows_its_curve():
    timeline = Timeline.begin(0.0, 100, speed=1.0, delay=0.0, curve=CURVES["steps"])
    assert [timeline.processed(at) for at in (5.0, 10.0, 19.9, 95.0, 100.0)] == [0, 10, 10, 90, 100]
    assert timeline.reached_at(30) == pytest.approx(30.0)
    assert timeline.finish_at == 100.0


def test_each_job_keeps_the_curve_it_was_accepted_with():
    rows = [{"name": f"Company {n}"} for n in range(200)]
    with (
        sandbox.run(frozen=True, providers=["micro"], rate_limit=None, speed=2.0, start_delay=0.0,
                    progress_curve="idle-then-linear") as sb,
        importbridge.connect("micro", **sb.settings("micro")) as client,
    ):  # fmt: skip
        idle = client.submit(rows)
        sb.configure(progress_curve=[(0.5, 0.9)])
        fast = client.submit(rows)
        sb.clock.advance(25.0)  # a quarter of the 100 s both jobs take
        assert client.get(str(idle.id)).processed == 0
        assert client.get(str(fast.id)).processed == 90  # 0.9 * 0.25 / 0.5 of 200 rows
        sb.clock.advance(75.0)
        assert client.get(str(idle.id)).state is importbridge.JobState.COMPLETE
        shown = requests.get(f"{sb.url}/_sandbox/state").json()["_sandbox"]["config"]["progress_curve"]
        assert shown == [[0.0, 0.0], [0.5, 0.9], [1.0, 1.0]]


def test_the_control_endpoint_sets_a_curve_and_refuses_a_bad_one():
    with sandbox.run(frozen=True, providers=["micro"]) as sb:
        answer = requests.post(f"{sb.url}/_sandbox/configure", json={"progress_curve": [[0.3, 0], [1, 1]]})
        assert answer.status_code == 200
        assert sb.config.progress_curve == ((0.0, 0.0), (0.3, 0.0), (1.0, 1.0))
        answer = requests.post(f"{sb.url}/_sandbox/configure", json={"progress_curve": "zigzag"})
        assert answer.status_code == 400
        assert "zigzag" in answer.json()["message"]


def test_the_command_line_takes_a_name_or_points():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--progress-curve", "steps"]).progress_curve == "steps"
    points = parser.parse_args(["--progress-curve", "0.3:0,1:1"]).progress_curve
    assert points == ((0.0, 0.0), (0.3, 0.0), (1.0, 1.0))
    assert parser.parse_args([]).progress_curve == "linear"
    with pytest.raises(SystemExit):
        parser.parse_args(["--progress-curve", "0.5:0.2,0.4:0.3"])


def test_every_named_curve_finishes_on_time():
    for name in CURVES:
        timeline = Timeline.begin(0.0, 1000, speed=10.0, delay=0.0, curve=CURVES[name])
        assert timeline.processed(99.99) < 1000 or name == "linear"
        assert timeline.processed(100.0) == 1000
        assert not math.isnan(timeline.reached_at(500))
