"""``importbridge demo``: every provider ends partial, with its rejected rows shown; exit 0."""

from __future__ import annotations

from importbridge import demo

from .conftest import CONTRACT_KEYS, run_cli


def test_the_plan_uses_only_shipped_files() -> None:
    _, plan = demo.load_plan()
    assert {entry.provider for entry in plan} == {"micro", "qobra", "talkvalue"}
    for entry in plan:
        rows = demo.read_sample(entry.records)
        assert len(rows) >= 100


def test_demo_json_every_provider_partial() -> None:
    result = run_cli("demo", "--json", "--speed", "400")
    assert result.code == 0, result.err
    jobs = result.json_lines()
    assert sorted(job["provider"] for job in jobs) == ["micro", "qobra", "talkvalue"]
    for job in jobs:
        assert set(job) == CONTRACT_KEYS
        assert job["state"] == "partial", job
        assert job["failed"] > 0
        assert job["succeeded"] > 0
        assert any(row["outcome"] == "failed" and row["error"] for row in job["rows"])


def test_demo_readable_outcome_and_rejected_rows() -> None:
    result = run_cli("demo", "--speed", "400")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    for provider in ("micro", "qobra", "talkvalue"):
        assert f"{provider}: rejected rows" in result.out
    for reason in ("name is required", "ParsingError", "INVALID_EMAIL"):
        assert reason in result.out
    assert result.out.count("partial") >= 3
    assert ": partial, " in result.err  # progress as status lines, since stderr is a pipe
