"""The command's building blocks in-process: reading records, provider options, exit codes, displays."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import (
    ConfigurationError,
    ImportJob,
    JobState,
    PollTimeout,
    TokenError,
    UnknownProviderError,
)
from importbridge.cli.exits import CommandError, ExitCode, exit_code_for_error, exit_code_for_state
from importbridge.cli.inputs import read_records
from importbridge.cli.options import parse_options
from importbridge.cli.output import job_summary, worst
from importbridge.cli.progress import StatusLines, rows_done

texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
columns = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True), min_size=1, max_size=5, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str]]]:
    header = draw(columns)
    rows = draw(st.lists(st.fixed_dictionaries({name: texts for name in header}), max_size=10))
    return header, rows


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("records")


def _lines(row: dict[str, str]) -> dict[str, str]:
    """Line endings inside a CSV cell come back as the csv module wrote them."""
    return {key: value.replace("\r\n", "\n").replace("\r", "\n") for key, value in row.items()}


@given(table=tables())
def test_csv_records_round_trip(workdir: Path, table: tuple[list[str], list[dict[str, str]]]) -> None:
    header, rows = table
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    path = workdir / "records.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    assert [_lines(row) for row in read_records(str(path))] == [_lines(row) for row in rows]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@given(
    records=st.lists(st.dictionaries(texts, json_values, max_size=4), max_size=8),
    suffix=st.sampled_from([".jsonl", ".txt"]),
)
def test_json_lines_records_round_trip(workdir: Path, records: list[dict[str, Any]], suffix: str) -> None:
    path = workdir / f"records{suffix}"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    if suffix == ".txt" and not records:
        return  # an empty file with no telling name reads as an empty CSV: a usage error
    assert read_records(str(path)) == records


keys = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


@given(st.dictionaries(keys, json_values, max_size=5))
def test_option_values_are_json_when_they_parse(options: dict[str, Any]) -> None:
    pairs = [f"{key}={json.dumps(value)}" for key, value in options.items()]
    flags = [
        token for key, value in options.items() for token in (f"--{key.replace('_', '-')}", json.dumps(value))
    ]
    assert parse_options(pairs) == options
    assert parse_options((), flags) == options


def test_option_text_dotted_keys_and_mistakes() -> None:
    assert parse_options(["table=deals", "mode=SKIP"]) == {"table": "deals", "mode": "SKIP"}
    assert parse_options(["column_mappings.E-mail=EMAIL", "column_mappings.Notes=null"]) == {
        "column_mappings": {"E-mail": "EMAIL", "Notes": None}
    }
    flags = ["--source-id=7", "--replace-all", "true"]
    assert parse_options((), flags) == {"source_id": 7, "replace_all": True}
    for bad in (["noequals"], ["=value"], ["a=1", "a=2"], ["a=1", "a.b=2"]):
        with pytest.raises(CommandError):
            parse_options(bad)


def test_every_state_has_an_exit_code() -> None:
    codes = {state: exit_code_for_state(state.value) for state in JobState}
    assert codes[JobState.COMPLETE] == ExitCode.COMPLETE
    assert codes[JobState.PARTIAL] == ExitCode.PARTIAL
    assert codes[JobState.FAILED] == ExitCode.FAILED
    assert {codes[JobState.PENDING], codes[JobState.RUNNING]} == {ExitCode.COMPLETE}


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PollTimeout("late", job=None, token="ib1.x.y"), ExitCode.TIMED_OUT),
        (UnknownProviderError("x", ["micro"]), ExitCode.USAGE),
        (TokenError("bad token"), ExitCode.USAGE),
        (ConfigurationError("set X"), ExitCode.ERROR),
        (CommandError("bad file"), ExitCode.USAGE),
        (RuntimeError("bug"), ExitCode.ERROR),
    ],
)
def test_errors_map_to_documented_exit_codes(error: BaseException, code: ExitCode) -> None:
    assert exit_code_for_error(error) == code


@given(st.lists(st.sampled_from([0, 1, 3, 4, 5]), max_size=6))
def test_worst_orders_outcomes(codes: list[int]) -> None:
    order = [5, 4, 2, 1, 3, 0]
    assert worst(codes) == min(codes, key=order.index, default=0)


counts = st.none() | st.integers(min_value=0, max_value=10_000)


@given(st.sampled_from(list(JobState)), counts, counts, st.none() | st.floats(0, 1))
def test_rows_done_never_exceeds_what_is_known(state: JobState, total: int | None, processed: int | None,
                                               progress: float | None) -> None:
    if total is not None and processed is not None:
        processed = min(processed, total)
    job = ImportJob(provider="p", id="1", state=state, provider_state="x", total=total, processed=processed,
                    progress=progress)
    done = rows_done(job)
    assert done >= 0
    if total is not None:
        assert done <= total
    lines = job_summary(job)
    assert lines[2][0] == "state"
    assert ("rows", "not reported") in lines or total is not None or processed is not None


def test_status_lines_print_only_changes() -> None:
    out = io.StringIO()
    show = StatusLines(out)
    running = ImportJob(provider="p", id="7", state=JobState.RUNNING, provider_state="r", total=10,
                        processed=4)
    show(running)
    show(running)
    show(ImportJob(provider="p", id="7", state=JobState.PARTIAL, provider_state="d", total=10, processed=10))
    assert out.getvalue().splitlines() == ["p 7: running, 4/10 rows", "p 7: partial, 10/10 rows"]
    percent = io.StringIO()
    StatusLines(percent)(
        ImportJob(provider="q", id="a", state=JobState.RUNNING, provider_state="s", progress=0.25)
    )
    assert percent.getvalue() == "q a: running, 25%\n"


def test_a_timeout_hint_gives_a_new_timeout_since_the_token_keeps_the_spent_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importbridge import PollTimeout
    from importbridge.cli.waiting import report_timeout

    error = PollTimeout("micro job 7 is still running", job=None, token="ib1.x.y", tokens=["ib1.x.y"])
    assert report_timeout(error, as_json=True) == ExitCode.TIMED_OUT
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "importbridge: resume with: importbridge resume ib1.x.y --timeout SECONDS"
