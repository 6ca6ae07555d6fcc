"""Qobra payloads -> ImportJob: the docs' example, every ruling of DESIGN.md, and bad input."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import payload_checks
import pytest
from hypothesis import given
from hypothesis import strategies as st
from importbridge_qobra.normalize import SAMPLES, STATUS_WORDS, normalize

import importbridge
from importbridge import JobError, JobState, PayloadError, RowOutcome
from importbridge.testing import strategies as ibst

HERE = Path(__file__).parent
DOCS_PAYLOAD = json.loads((HERE / "payloads" / "docs_fetch_import.json").read_text())
REPO = HERE.parents[2]
DOCS_PAGE = "004_b8fefae3490eda30.txt"

PARSING_ERROR = {"code": "ParsingError", "message": "Can't parse 'AAAAA' as float for user attribute amount"}
DOCS_EXPECTED = {
    "provider": "qobra",
    "id": "647a13fe875af4b4eb7133c2",
    "state": "partial",
    "provider_state": "finished",
    "total": None,
    "processed": None,
    "succeeded": 122,
    "failed": 1,
    "created": None,
    "updated": None,
    "duplicates": None,
    "skipped": None,
    "progress": 1.0,
    "created_at": "2024-06-25T09:58:32Z",
    "started_at": "2024-06-25T10:03:27Z",
    "finished_at": "2024-06-25T10:14:12Z",
    "updated_at": None,
    "expires_at": None,
    "error": PARSING_ERROR,
    "rows": [
        {
            "row": 1,
            "outcome": "failed",
            "record_id": None,
            "error": {
                "code": "ParsingError",
                "message": "ValueError: could not convert string to float: 'AAAAA'",
            },
            "data": {"id": "1", "name": "Great opportunity", "user": "user@example.fr", "amount": "AAAAA"},
            "table": "opportunities",
        }
    ],
    "rows_complete": False,
    "tables": [
        {
            "key": "companies",
            "source": "api",
            "state": "complete",
            "provider_state": "finished",
            "progress": 1.0,
            "records": 122,
            "error": None,
        },
        {
            "key": "opportunities",
            "source": "api",
            "state": "failed",
            "provider_state": "finished",
            "progress": 1.0,
            "records": None,
            "error": PARSING_ERROR,
        },
    ],
    "mode": None,
    "file_name": None,
}


def table(
    key: str, *, status: str = "finished", records: int | None = 10, error: Any = None, **more: Any
) -> Any:
    return {
        "type": "api",
        "status": status,
        "data_table_key": key,
        "progress": 100 if status == "finished" else 50,
        "number_of_records": records,
        "error": error,
        **more,
    }


def failure(*lines: int, title: str = "ParsingError") -> dict[str, Any]:
    return {
        "title": title,
        "description": "bad lines",
        "parsing_error_details": [
            {"line_number": n, "row": {"id": str(n)}, "details": f"line {n} is bad"} for n in lines
        ],
    }


def imp(*tables: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "id": "665f1b2c3d4e5f6a7b8c9d00",
        "created_at": "2024-06-25T09:58:32Z",
        "status": "finished",
        "progress": 100,
        "data_tables_details": list(tables),
        **fields,
    }
    return {"data_import": body}


rejected = functools.partial(payload_checks.rejected, "qobra")


# -- the docs' example ----------------------------------------------------------------------


def test_docs_example_normalizes_to_the_contract() -> None:
    assert importbridge.to_dict(normalize(DOCS_PAYLOAD)) == DOCS_EXPECTED


def test_docs_example_through_the_registry_from_bytes() -> None:
    raw = (HERE / "payloads" / "docs_fetch_import.json").read_bytes()
    assert importbridge.to_dict(importbridge.normalize("qobra", raw)) == DOCS_EXPECTED


def _docs_dir() -> Path | None:
    for candidate in (Path("/work/shared/provider-docs"), REPO.parent / "shared" / "provider-docs"):
        if candidate.is_dir():
            return candidate
    return None


def test_the_openapi_example_on_the_docs_page_normalizes() -> None:
    docs = _docs_dir()
    if docs is None or not (docs / DOCS_PAGE).is_file():
        pytest.skip("provider docs folder not present")
    yaml = pytest.importorskip("yaml")
    text = (docs / DOCS_PAGE).read_text(encoding="utf-8")
    spec = yaml.safe_load(text.split("````yaml", 1)[1].split("\n", 1)[1].split("````", 1)[0])
    examples = spec["components"]["examples"]
    assert examples, "no example in the OpenAPI document"
    for example in examples.values():
        assert importbridge.to_dict(normalize(example["value"])) == DOCS_EXPECTED


# -- the samples ----------------------------------------------------------------------------


def test_samples_cover_every_status_word_and_shape() -> None:
    jobs = [normalize(sample) for sample in SAMPLES]
    assert {j.provider_state for j in jobs} == set(STATUS_WORDS)
    assert {j.state for j in jobs} == set(JobState)
    assert any(len(j.tables) > 1 and j.rows for j in jobs)  # multi-table with a ParsingError
    assert DOCS_PAYLOAD in SAMPLES


@pytest.mark.parametrize("sample", SAMPLES, ids=range(len(SAMPLES)))
def test_samples_round_trip_and_are_not_mutated(sample: Any) -> None:
    before = copy.deepcopy(sample)
    normalized = normalize(sample)
    assert sample == before
    assert normalized.raw is sample
    assert importbridge.from_dict(importbridge.to_dict(normalized)) == normalized
    assert importbridge.normalize("qobra", json.dumps(sample).encode()) == normalized


# -- rulings ---------------------------------------------------------------------------------


def test_status_words_are_a_table() -> None:
    assert dict(STATUS_WORDS) == {
        "scheduled": JobState.PENDING,
        "started": JobState.RUNNING,
        "finished": JobState.COMPLETE,
    }
    assert importbridge.get_provider("qobra").status_words == STATUS_WORDS


@pytest.mark.parametrize(
    ("tables", "state"),
    [
        ([table("a"), table("b")], JobState.COMPLETE),
        ([table("a"), table("b", records=None, error=failure(1))], JobState.PARTIAL),
        (
            [table("a", records=None, error=failure(1)), table("b", records=None, error=failure(2))],
            JobState.FAILED,
        ),
        ([table("a", records=None, error={"title": "Oops"})], JobState.FAILED),
        ([], JobState.COMPLETE),
        # the counts decide: a clean table of zero records and a failing one landed nothing
        ([table("a", records=0), table("b", records=None, error=failure(1))], JobState.FAILED),
        # an unknown count on the clean table leaves the table rule in charge
        ([table("a", records=None), table("b", records=None, error=failure(1))], JobState.PARTIAL),
    ],
)
def test_finished_is_decided_by_the_tables(tables: list[Any], state: JobState) -> None:
    j = normalize(imp(*tables))
    assert j.state is state
    assert j.provider_state == "finished"


@pytest.mark.parametrize(("word", "state"), [("scheduled", JobState.PENDING), ("started", JobState.RUNNING)])
def test_unfinished_words(word: str, state: JobState) -> None:
    j = normalize(imp(table("a", status=word, records=None), status=word, progress="50"))
    assert j.state is state
    assert j.tables[0].state is state
    assert j.progress == 0.5


def test_the_error_flag_is_derived_from_the_tables_when_missing() -> None:
    clean = normalize(imp(table("a")))
    assert clean.error is None
    failing = normalize(imp(table("a"), table("b", records=None, error=failure(4))))
    assert failing.error == JobError(code="ParsingError", message="bad lines")


def test_a_true_error_flag_without_a_failing_table_is_a_job_level_failure() -> None:
    landed = normalize(imp(table("a", records=5), error=True))
    assert landed.state is JobState.PARTIAL
    assert landed.error == JobError()
    nothing = normalize(imp(table("a", records=0), error=True))
    assert nothing.state is JobState.FAILED


def test_a_false_error_flag_does_not_hide_a_failing_table() -> None:
    j = normalize(imp(table("a"), table("b", records=None, error=failure(1)), error=False))
    assert j.state is JobState.PARTIAL


@pytest.mark.parametrize(
    ("given", "fraction"),
    [(100, 1.0), (0, 0.0), (62.5, 0.625), ("100", 1.0), ("37.5", 0.375), (" 40 ", 0.4), ("1e1", 0.1)],
)
def test_progress_is_a_percentage_as_int_float_or_numeric_string(given: Any, fraction: float) -> None:
    assert normalize(imp(table("a"), progress=given)).progress == pytest.approx(fraction)


def test_parsing_error_details_are_failed_rows() -> None:
    j = normalize(imp(table("deals", records=None, error=failure(3, 9)), table("users", records=4)))
    assert [(row.row, row.outcome, row.table) for row in j.rows] == [
        (3, RowOutcome.FAILED, "deals"),
        (9, RowOutcome.FAILED, "deals"),
    ]
    assert j.rows[0].data == {"id": "3"}
    assert j.rows[1].error == JobError(code="ParsingError", message="line 9 is bad")
    assert j.failed == 2
    assert j.rows_complete is False  # the docs do not say the details list every failed line


def test_succeeded_sums_number_of_records_over_clean_tables_when_any_is_known() -> None:
    j = normalize(
        imp(
            table("a", records=7),
            table("b", records=None),
            table("c", records=3),
            table("d", records=50, error={"title": "Late"}),
        )
    )
    assert j.succeeded == 10
    assert normalize(imp(table("a", records=None))).succeeded is None
    # a known 0 beside an unknown count is not "nothing landed"
    assert normalize(imp(table("a", records=0), table("b", records=None))).succeeded is None
    assert normalize(imp(table("a", records=0), table("b", records=0))).succeeded == 0


def test_failed_is_unknown_when_a_failing_table_lists_no_lines() -> None:
    assert normalize(imp(table("a", records=None, error={"title": "Oops"}))).failed is None
    assert normalize(imp(table("a"))).failed == 0


def test_table_imports_carry_key_source_state_progress_records_error() -> None:
    j = normalize(imp(table("deals", status="started", records=None, type="csv")))
    assert j.tables == (
        importbridge.TableImport(
            key="deals", source="csv", state=JobState.RUNNING, provider_state="started", progress=0.5
        ),
    )
    bare = normalize(imp({"type": "integration", "status": "scheduled", "progress": "0"})).tables[0]
    assert (bare.key, bare.records, bare.error) == ("", None, None)


def test_rows_complete_when_finished_without_any_error() -> None:
    assert normalize(imp(table("a"))).rows_complete is True
    assert normalize(imp(table("a", status="started"), status="started")).rows_complete is False


def test_timestamps_map_to_the_contract() -> None:
    j = normalize(imp(launched_at="2024-06-25T10:03:27Z", finished_at=None))
    stamps = importbridge.to_dict(j)
    assert (stamps["created_at"], stamps["started_at"], stamps["finished_at"]) == (
        "2024-06-25T09:58:32Z",
        "2024-06-25T10:03:27Z",
        None,
    )


def test_unknown_fields_are_ignored() -> None:
    plain = imp(table("a"))
    extra = imp(table("a", owner="ops"), import_source="api", error=False)
    extra["meta"] = {"request_id": "r-1"}
    assert normalize(extra) == normalize(plain)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "path", "reason"),
    [
        ({"id": "x"}, "data_import", "missing required field"),
        ({"data_import": []}, "data_import", "expected an object"),
        (imp(status="failed"), "data_import.status", "known words: finished, scheduled, started"),
        (imp(progress=101), "data_import.progress", "outside 0..100"),
        (imp(progress="nan"), "data_import.progress", "expected a percentage"),
        (imp(progress="1_0"), "data_import.progress", "expected a percentage"),
        (imp(progress=True), "data_import.progress", "expected a percentage"),
        (imp(progress=float("nan")), "data_import.progress", "outside 0..100"),
        (imp(progress=10**400), "data_import.progress", "outside 0..100"),
        (imp(error="yes"), "data_import.error", "expected a boolean"),
        (imp(id=None), "data_import.id", "is null"),
        (imp(created_at="25/06/2024"), "data_import.created_at", "does not parse"),
        (imp(launched_at=True), "data_import.launched_at", "date-time"),
        (
            {"data_import": {"id": "x", "status": "finished", "progress": 1, "created_at": "2024-06-25"}},
            "data_import.data_tables_details",
            "missing required field",
        ),
        (imp({"type": "api", "progress": 1}), "data_import.data_tables_details[0].status", "missing"),
        (imp(table("a"), table("b", status="done")), "data_import.data_tables_details[1].status", "unknown"),
        (imp(table("a", records=-1)), "data_import.data_tables_details[0].number_of_records", "-1"),
        (imp(table("a", records=1.0)), "data_import.data_tables_details[0].number_of_records", "number"),
        (imp(table("a", type=None)), "data_import.data_tables_details[0].type", "is null"),
        (imp(table("a", data_table_key=5)), "data_import.data_tables_details[0].data_table_key", "string"),
        (imp(table("a", error="bad")), "data_import.data_tables_details[0].error", "expected an object"),
        (
            imp(table("a", records=None, error={"title": 1})),
            "data_import.data_tables_details[0].error.title",
            "expected a string",
        ),
        (
            imp(table("a", records=None, error={"parsing_error_details": [{}, {"line_number": "2"}]})),
            "data_import.data_tables_details[0].error.parsing_error_details[1].line_number",
            "non-negative integer",
        ),
        (
            imp(table("a", records=None, error={"parsing_error_details": [{"line_number": 0}]})),
            "data_import.data_tables_details[0].error.parsing_error_details[0].line_number",
            "expected a row number from 1, got 0",
        ),
        (
            imp(table("a", records=None, error={"parsing_error_details": [{"details": 3}]})),
            "data_import.data_tables_details[0].error.parsing_error_details[0].details",
            "expected a string",
        ),
        (
            imp(table("a", records=None, error={"parsing_error_details": [[]]})),
            "data_import.data_tables_details[0].error.parsing_error_details[0]",
            "expected an object",
        ),
    ],
)
def test_bad_payloads_name_the_field_and_the_reason(payload: Any, path: str, reason: str) -> None:
    assert reason in rejected(path, payload).reason


@given(ibst.non_objects())
def test_non_objects_are_rejected(payload: Any) -> None:
    rejected("", payload)


outcome = functools.partial(payload_checks.outcome, "qobra")


assert_well_formed = functools.partial(payload_checks.assert_well_formed, "qobra")


@given(st.sampled_from(SAMPLES).flatmap(ibst.replaced_values))
def test_mutated_payloads_raise_only_payload_errors_naming_provider_and_path(mutated: Any) -> None:
    before = copy.deepcopy(mutated)
    result = outcome(mutated)
    if isinstance(result, PayloadError):
        assert_well_formed(result)
        assert result.path.startswith("data_import")
    else:
        assert result.raw is mutated
    assert mutated == before


@given(ibst.json_values(max_leaves=20))
def test_arbitrary_json_raises_only_payload_errors(value: Any) -> None:
    for payload in (value, {"data_import": value}, imp(value), imp(table("a", error=value))):
        result = outcome(payload)
        if isinstance(result, PayloadError):
            assert_well_formed(result)


LINE = st.fixed_dictionaries(
    {},
    optional={
        "line_number": st.none() | st.integers(min_value=1, max_value=10**6),
        "row": ibst.json_values(max_leaves=4),
        "details": st.none() | st.text(max_size=20),
    },
)
TABLE = st.builds(
    lambda key, word, records, lines, progress: table(
        key,
        status=word,
        records=None if lines is not None else records,
        error=None if lines is None else {"title": "ParsingError", "parsing_error_details": lines},
        progress=progress,
    ),
    st.text(max_size=8),
    st.sampled_from(sorted(STATUS_WORDS)),
    st.none() | st.integers(min_value=0, max_value=10**6),
    st.none() | st.lists(LINE, max_size=5),
    st.integers(0, 100) | st.floats(0, 100) | st.integers(0, 100).map(str),
)


@given(st.lists(TABLE, max_size=4), st.sampled_from(sorted(STATUS_WORDS)))
def test_valid_generated_imports_normalize_consistently(tables: list[Any], word: str) -> None:
    j = normalize(imp(*tables, status=word))
    failing = [t for t in tables if t["error"] is not None]
    assert len(j.tables) == len(tables)
    assert len(j.rows) == sum(len(t["error"]["parsing_error_details"]) for t in failing)
    assert all(row.outcome is RowOutcome.FAILED for row in j.rows)
    if word == "finished":
        if not failing:
            assert j.state is JobState.COMPLETE
        elif len(failing) == len(tables):
            assert j.state is JobState.FAILED
        else:
            assert j.state in (JobState.PARTIAL, JobState.FAILED)
    else:
        assert j.state is STATUS_WORDS[word]
    assert importbridge.from_dict(importbridge.to_dict(j)) == j
