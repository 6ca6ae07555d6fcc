"""The contract's JSON shape: exact keys, JSON-safe values, lossless round trips, clear errors."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import importbridge
from importbridge import (
    ImportJob,
    JobError,
    JobState,
    PayloadError,
    RowOutcome,
    RowResult,
    TableImport,
    from_dict,
    from_json,
    to_dict,
    to_json,
)
from importbridge.testing.strategies import import_jobs

# DESIGN.md's contract table, in its order.
JOB_KEYS = [
    "provider", "id", "state", "provider_state",
    "total", "processed", "succeeded", "failed",
    "created", "updated", "duplicates", "skipped",
    "progress",
    "created_at", "started_at", "finished_at", "updated_at", "expires_at",
    "error", "rows", "rows_complete", "tables", "mode", "file_name",
]  # fmt: skip
ROW_KEYS = ["row", "outcome", "record_id", "error", "data", "table"]
TABLE_KEYS = ["key", "source", "state", "provider_state", "progress", "records", "error"]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")

FULL = ImportJob(
    provider="acme",
    id="42",
    state=JobState.PARTIAL,
    provider_state="DONE_WITH_ERRORS",
    total=3,
    processed=3,
    succeeded=2,
    failed=1,
    created=1,
    updated=1,
    duplicates=0,
    skipped=0,
    progress=1.0,
    created_at=datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    finished_at=datetime(2024, 5, 1, 10, 0, 9, 250000, tzinfo=timezone.utc),
    error=JobError(code="c", message="m"),
    rows=[RowResult(row=2, outcome=RowOutcome.FAILED, error=JobError(message="bad"), data={"a": [1]})],
    tables=[TableImport(key="deals", state=JobState.COMPLETE, provider_state="finished", records=2)],
    mode="UPDATE",
    file_name="f.csv",
    raw={"never": "exported"},
)


def test_to_dict_has_exactly_the_contract_keys_in_order() -> None:
    data = to_dict(FULL)
    assert list(data) == JOB_KEYS
    assert list(data["rows"][0]) == ROW_KEYS
    assert list(data["tables"][0]) == TABLE_KEYS
    assert list(data["error"]) == ["code", "message"]


def test_to_dict_is_json_safe() -> None:
    data = to_dict(FULL)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert (data["state"], data["rows"][0]["outcome"], data["tables"][0]["state"]) == (
        "partial",
        "failed",
        "complete",
    )
    assert data["created_at"] == "2024-05-01T10:00:00Z"
    assert data["finished_at"] == "2024-05-01T10:00:09.250000Z"
    assert isinstance(data["rows"], list)
    assert "raw" not in data
    assert "never" not in to_json(FULL)


@given(import_jobs())
def test_to_dict_of_any_job_is_strict_json(job: ImportJob) -> None:
    data = to_dict(job)
    assert list(data) == JOB_KEYS
    text = json.dumps(data, allow_nan=False)
    for key in ("created_at", "started_at", "finished_at", "updated_at", "expires_at"):
        assert data[key] is None or ISO_UTC.match(data[key]), data[key]
    assert json.loads(text)["state"] == job.state.value


@given(import_jobs())
def test_dict_round_trip(job: ImportJob) -> None:
    assert from_dict(to_dict(job)) == job


@given(import_jobs())
def test_json_round_trip(job: ImportJob) -> None:
    text = to_json(job)
    assert json.loads(text) == json.loads(json.dumps(to_dict(job)))
    assert from_json(text) == job
    assert from_json(text.encode("utf-8")) == job


def test_public_names_are_the_convert_functions() -> None:
    assert importbridge.to_dict is to_dict
    assert importbridge.from_json is from_json


def _with(**changes: Any) -> dict[str, Any]:
    return {**to_dict(FULL), **changes}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (_with(total=True), "total"),  # a bool is not an int
        (_with(total=1.5), "total"),
        (_with(total="3"), "total"),
        (_with(total=-1), "total"),
        (_with(progress=1.5), "progress"),
        (_with(progress="0.5"), "progress"),
        (_with(provider=3), "provider"),
        (_with(state="done"), "state"),
        (_with(rows_complete="yes"), "rows_complete"),
        (_with(created_at="yesterday"), "created_at"),
        (_with(created_at=1714557600), "created_at"),
        (_with(rows=[{"outcome": "exploded"}]), "rows[0].outcome"),
        (_with(rows=[{"row": 1}]), "rows[0].outcome"),
        (_with(rows=[{"outcome": "failed", "row": -3}]), "rows[0].row"),
        (_with(rows=[{"outcome": "failed", "error": {"code": 7}}]), "rows[0].error.code"),
        (_with(tables=[{**to_dict(FULL)["tables"][0], "progress": 50}]), "tables[0].progress"),
    ],
)
def test_from_dict_names_the_bad_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(PayloadError) as info:
        from_dict(data)
    assert info.value.path == path
    assert path in str(info.value)
    assert info.value.provider == "importbridge"


def test_from_dict_rejects_missing_and_unknown_keys() -> None:
    data = to_dict(FULL)
    del data["state"]
    with pytest.raises(PayloadError, match="state: missing"):
        from_dict(data)
    with pytest.raises(PayloadError, match="unknown keys"):
        from_dict(_with(surprise=1))


@pytest.mark.parametrize("value", [None, [], "job", 3])
def test_from_dict_wants_an_object(value: object) -> None:
    with pytest.raises(PayloadError, match="expected a JSON object"):
        from_dict(value)


@pytest.mark.parametrize("text", ["", "{", "[1,", b"\xff{}"])
def test_from_json_rejects_malformed_text(text: str | bytes) -> None:
    with pytest.raises(PayloadError, match=r"not JSON|not UTF-8"):
        from_json(text)


def _document(**changes: Any) -> str:
    return json.dumps(_with(**changes))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (_document(progress=0.5).replace("0.5", "NaN"), "NaN is not a JSON value"),
        (_document(total=3).replace('"total": 3', '"total": Infinity'), "Infinity is not a JSON value"),
        (_document(progress=0.5).replace("0.5", "1e400"), "out of range"),
        (_document().replace('"data": {"a": [1]}', '"data": ' + "[" * 200 + "]" * 200), "nested deeper than"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
    ],
)
def test_from_json_reads_strict_json_only(text: str, says: str) -> None:
    with pytest.raises(PayloadError, match=says):
        from_json(text)


def test_from_dict_refuses_what_the_model_refuses_with_the_path() -> None:
    with pytest.raises(PayloadError, match="total") as info:
        from_dict(_with(total=1))  # FULL says 3 processed
    assert (info.value.provider, info.value.path) == ("importbridge", "total")
    with pytest.raises(PayloadError, match="state") as state:
        from_dict(_with(state="complete"))  # FULL has a rejected row and an error
    assert state.value.path == "state"
    with pytest.raises(PayloadError, match="has no time zone") as naive:
        from_dict(_with(created_at="2024-05-01T10:00:00"))
    assert naive.value.path == "created_at"
    with pytest.raises(PayloadError) as data:
        from_dict(_with(rows=[{**to_dict(FULL)["rows"][0], "data": {"a": [1, {"b": float("nan")}]}}]))
    assert data.value.path == "rows[0].data.a[1].b"


def test_a_lone_surrogate_from_a_provider_is_written_as_an_escape() -> None:
    job = ImportJob(
        provider="p",
        state=JobState.FAILED,
        provider_state="\ud800",
        failed=1,
        rows=[RowResult(outcome=RowOutcome.FAILED, data={"name": "caf\xe9 \udfff"}, record_id="\U0001f600")],
    )
    text = to_json(job)
    assert text.isascii()
    text.encode("utf-8")  # any stream can carry it
    assert "\\ud800" in text
    assert from_json(text) == job
    assert from_json(to_json(job, indent=2).encode("ascii")) == job


def test_the_deepest_data_the_model_accepts_still_converts() -> None:
    from importbridge.jsontext import MAX_DEPTH

    data: object = 1.5
    for level in range(MAX_DEPTH - 3):
        data = [data] if level % 2 else {"k": data}
    row = RowResult(outcome=RowOutcome.FAILED, data=data)
    job = ImportJob(provider="p", state=JobState.FAILED, provider_state="w", rows=[row])
    assert from_dict(to_dict(job)) == job
    assert from_json(to_json(job)) == job


@given(st.datetimes(timezones=st.timezones(), min_value=datetime(1900, 1, 2)))
def test_datetimes_in_any_zone_land_in_utc(value: datetime) -> None:
    job = ImportJob(provider="p", state=JobState.PENDING, provider_state="w", expires_at=value)
    text = to_dict(job)["expires_at"]
    assert text.endswith("Z")
    # astimezone, not ==: aware datetimes in a fold never compare equal across zones
    assert datetime.fromisoformat(text[:-1] + "+00:00") == value.astimezone(timezone.utc)


# Values a careless adapter might hand the model: right and wrong types, NaN, naive datetimes,
# data nested past the bound, lone surrogates.
def _deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = {"k": [value]}
    return value


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=12),
    st.floats(),
    st.sampled_from(["", "w", "\ud800", "caf\xe9"]),
    st.sampled_from(list(JobState) + list(RowOutcome)),
    st.datetimes(timezones=st.none() | st.just(timezone.utc)),
    st.sampled_from([_deep(40), _deep(60), [1, {"a": float("nan")}], {1: "x"}, (1, 2)]),
    st.builds(JobError, code=st.none() | st.text(max_size=3)),
)


@given(
    st.fixed_dictionaries(
        {"provider": st.just("p"), "state": st.sampled_from(JobState), "provider_state": st.just("w")},
        optional={
            name: ANYTHING
            for name in JOB_KEYS
            if name not in ("provider", "state", "provider_state", "rows", "tables")
        },
    ),
    st.lists(st.builds(RowResult, outcome=st.sampled_from(RowOutcome), data=ANYTHING), max_size=2),
)
def test_whatever_the_model_accepts_is_strict_json_and_round_trips(
    fields: dict[str, Any], rows: list[RowResult]
) -> None:
    try:
        job = ImportJob(**fields, rows=rows)
    except importbridge.InvalidJobError:
        return  # refused with the documented error: fine
    text = to_json(job)
    assert text.isascii()
    assert json.loads(text) == json.loads(json.dumps(to_dict(job), allow_nan=False))
    assert from_dict(to_dict(job)) == job
    assert from_json(text) == job


def test_nan_in_a_decoded_payload_never_reaches_a_job() -> None:
    payload = {
        "data_import": {
            "id": "i1",
            "status": "finished",
            "progress": 100,
            "created_at": "2024-06-25T09:58:32Z",
            "data_tables_details": [
                {
                    "type": "api",
                    "status": "finished",
                    "data_table_key": "deals",
                    "progress": 100,
                    "number_of_records": None,
                    "error": {
                        "title": "ParsingError",
                        "parsing_error_details": [{"line_number": 2, "row": {"amount": float("nan")}}],
                    },
                }
            ],
        }
    }
    with pytest.raises(PayloadError) as info:
        importbridge.normalize("qobra", payload)
    assert (info.value.provider, info.value.path) == ("qobra", "rows[0].data.amount")
