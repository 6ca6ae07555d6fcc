"""submit, get, wait, resume and failed-rows as subprocesses against the sandbox."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from importbridge import sandbox

from .conftest import CONTRACT_KEYS, ROW_KEYS, write_csv

Cli = Any


def organizations(path: Path, count: int, *, bad_every: int = 0) -> Path:
    """``count`` Micro organizations; every ``bad_every``-th has no name (rejected: required)."""
    rows = [[("" if bad_every and i % bad_every == 0 else f"Org {i}"), f"org{i}.example.com"]
            for i in range(1, count + 1)]
    return write_csv(path, ["name", "domain"], rows)


@pytest.mark.parametrize(
    ("bad_every", "state", "code"), [(0, "complete", 0), (5, "partial", 3), (1, "failed", 1)]
)
def test_submit_exits_by_state(cli: Cli, tmp_path: Path, bad_every: int, state: str, code: int) -> None:
    records = organizations(tmp_path / "orgs.csv", 20, bad_every=bad_every)
    result = cli("submit", "micro", str(records), "--object-type", "organization", "--json")
    assert result.code == code, result.err
    job = result.json()
    assert set(job) == CONTRACT_KEYS
    assert (job["state"], job["total"]) == (state, 20)
    assert all(set(row) == ROW_KEYS for row in job["rows"])


def test_submit_json_lines_and_generic_options(cli: Cli, tmp_path: Path, sb: sandbox.Sandbox) -> None:
    path = tmp_path / "deals.jsonl"
    path.write_text("\n".join(json.dumps({"deal": f"d{i}", "amount": i * 10}) for i in range(5)) + "\n")
    result = cli("submit", "qobra", str(path), "-o", "table=deals", "--debounce=0", "--wait", "--json")
    assert result.code == 0, result.err
    job = result.json()
    assert (job["state"], job["succeeded"], job["tables"][0]["key"]) == ("complete", 5, "deals")


def test_unknown_provider_option_names_the_known_ones(cli: Cli, tmp_path: Path) -> None:
    records = organizations(tmp_path / "orgs.csv", 3)
    cli("submit", "micro", str(records), "--colour", "blue").assert_one_line_error(5, "colour", "object_type")


def test_submit_unknown_provider_and_bad_credentials(cli: Cli, tmp_path: Path) -> None:
    records = organizations(tmp_path / "orgs.csv", 3)
    cli("submit", "nosuch", str(records)).assert_one_line_error(2, "unknown provider")
    cli("submit", "micro", str(records), env={"MICRO_API_KEY": "wrong"}).assert_one_line_error(5, "403")
    cli("get", "micro", "no-such-job").assert_one_line_error(5, "404")


def test_async_job_get_wait_failed_rows_and_resume(cli: Cli, tmp_path: Path) -> None:
    records = organizations(tmp_path / "orgs.csv", 150, bad_every=10)
    submitted = cli("submit", "micro", str(records), "--object-type", "organization", "--json")
    assert submitted.code == 0, submitted.err  # accepted, not finished: the state says the rest
    job = submitted.json()
    assert job["state"] in {"pending", "running"}
    token = submitted.err.rsplit("importbridge resume ", 1)[1].split()[0]

    fetched = cli("get", "micro", job["id"], "--json")
    assert fetched.code in {0, 3}
    assert fetched.json()["id"] == job["id"]

    waited = cli("wait", "micro", job["id"], "--json")
    assert waited.code == 3, waited.err
    finished = waited.json()
    assert (finished["state"], finished["failed"], finished["succeeded"]) == ("partial", 15, 135)
    assert f"micro {job['id']}: partial, 150/150 rows" in waited.err  # plain status lines off a terminal

    readable = cli("get", "micro", job["id"])
    assert readable.code == 3
    assert "partial (provider says complete)" in readable.out
    assert "required: name is required" in readable.out

    resumed = cli("resume", token, "--json")
    assert resumed.code == 3, resumed.err
    assert resumed.json() == finished

    as_csv = cli("failed-rows", "micro", job["id"])
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert as_csv.code == 0
    assert len(rows) == 15
    assert {row["code"] for row in rows} == {"required"}
    as_jsonl = cli("failed-rows", "micro", job["id"], "--json").json_lines()
    assert [row["row"] for row in as_jsonl] == [int(row["row"]) for row in rows] == list(range(10, 151, 10))
    assert all(set(row) == ROW_KEYS and row["outcome"] == "failed" for row in as_jsonl)


def test_wait_timeout_prints_the_token_and_exits_4(cli: Cli, tmp_path: Path, sb: sandbox.Sandbox) -> None:
    records = organizations(tmp_path / "orgs.csv", 150)
    sb.configure(speed=1.0)  # jobs keep the speed they were accepted with
    try:
        submitted = cli("submit", "micro", str(records), "--json")
    finally:
        sb.configure(speed=400.0)
    job_id = submitted.json()["id"]
    result = cli("wait", "micro", job_id, "--timeout", "0.5", "--json")
    assert result.code == 4, result.err
    assert "Traceback" not in result.err
    assert result.json()["state"] in {"pending", "running"}  # the last snapshot seen
    token = result.err.rsplit("importbridge resume ", 1)[1].split()[0]
    assert token.startswith("ib1.")
    assert "sbx_" not in result.err  # no secret travels in the token line
    again = cli("resume", token, "--timeout", "0.2")
    assert again.code == 4


def test_submit_wait_times_out_with_a_token(cli: Cli, tmp_path: Path, sb: sandbox.Sandbox) -> None:
    records = organizations(tmp_path / "orgs.csv", 150)
    sb.configure(speed=1.0)
    try:
        result = cli("submit", "micro", str(records), "--wait", "--timeout", "0.3")
    finally:
        sb.configure(speed=400.0)
    assert result.code == 4, result.err
    assert "importbridge resume ib1." in result.err


def test_submit_in_batches_prints_one_job_per_batch(cli: Cli, tmp_path: Path) -> None:
    records = organizations(tmp_path / "orgs.csv", 150, bad_every=50)  # rows 50, 100, 150 are bad
    result = cli("submit", "micro", str(records), "--batch-size", "110", "--wait", "--json",
                 "--checkpoint", str(tmp_path / "journal"))
    assert result.code == 3, result.err
    jobs = result.json_lines()
    summary = [(job["total"], job["failed"], job["state"]) for job in jobs]
    assert summary == [(110, 2, "partial"), (40, 1, "partial")]
    assert all(set(job) == CONTRACT_KEYS for job in jobs)
    again = cli("submit", "micro", str(records), "--batch-size", "110", "--json",
                "--checkpoint", str(tmp_path / "journal"))
    assert [job["id"] for job in again.json_lines()][:1] == [jobs[0]["id"]]  # nothing sent twice


def test_submit_batches_exit_with_the_worst_state(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    write_csv(path, ["name", "domain"], [["Ok", "ok.example.com"], ["", "bad.example.com"]])
    result = cli("submit", "micro", str(path), "--batch-size", "1", "--json")
    assert [job["state"] for job in result.json_lines()] == ["complete", "failed"]
    assert result.code == 1


def test_wait_for_several_jobs_by_id_and_token(cli: Cli, tmp_path: Path) -> None:
    clean = organizations(tmp_path / "clean.csv", 120)
    dirty = organizations(tmp_path / "dirty.csv", 120, bad_every=40)
    first = cli("submit", "micro", str(clean), "--json").json()
    second = cli("submit", "micro", str(dirty), "--json")
    token = second.err.rsplit("importbridge resume ", 1)[1].split()[0]
    result = cli("wait", "micro", token, first["id"], "--json")
    assert result.code == 3, result.err  # the worst of complete and partial
    jobs = result.json_lines()
    assert [(job["id"], job["state"]) for job in jobs] == [
        (second.json()["id"], "partial"), (first["id"], "complete")
    ]


def test_failed_rows_of_an_unknown_job_prints_no_csv_header(cli: Cli) -> None:
    result = cli("failed-rows", "micro", "no-such-job")
    result.assert_one_line_error(5, "404")
    assert result.out == ""  # a script writing `> rejected.csv` gets no half-file
