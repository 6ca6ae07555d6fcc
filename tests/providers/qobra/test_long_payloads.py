"""Qobra payloads long enough for the chunked path (each failing table's
``error.parsing_error_details`` decoded as a ``LongArray``): the same job as the decoded dict
gives, and the same error for a bad line in a late chunk."""

from __future__ import annotations

import functools
from typing import Any

import payload_checks
import pytest
from importbridge_qobra.normalize import DOCS_EXAMPLE

from importbridge import ImportJob, PayloadError

ROWS = 8000
LATE = 5000  # in a late chunk of the ~ten
DETAILS = "data_import.data_tables_details[{table}].error.parsing_error_details"

alike = functools.partial(payload_checks.assert_alike_when_long, "qobra")


def line(n: int) -> dict[str, Any]:
    return {
        "line_number": n + 2,  # (line 1 is the header)
        "row": {"id": str(n), "amount": "AAAAA" if n % 2 else None},
        "details": None if n % 5 == 0 else f"Can't parse line {n + 2}",
    }


def failing(key: str, lines: list[Any]) -> dict[str, Any]:
    return {
        "type": "api",
        "status": "finished",
        "data_table_key": key,
        "progress": 100,
        "number_of_records": None,
        "error": {"title": "ParsingError", "description": "Can't parse", "parsing_error_details": lines},
    }


def payload(first: list[Any], second: list[Any]) -> dict[str, Any]:
    """The docs' example job, its first table fine, then two failing tables."""
    job = DOCS_EXAMPLE["data_import"]
    fine = job["data_tables_details"][0]
    tables = [fine, failing("opportunities", first), failing("deals", second)]
    return {"data_import": {**job, "error": True, "data_tables_details": tables}}


def lines(count: int = ROWS) -> list[Any]:
    return [line(n) for n in range(count)]


def test_a_long_payload_gives_the_job_its_dict_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    job = alike(payload(lines(), lines(3000)), monkeypatch)
    assert isinstance(job, ImportJob)
    chunks = payload_checks.chunk_counts(job)
    assert len(chunks) == 2  # one LongArray per failing table
    assert chunks[0] >= 5  # the chunked path, in many chunks
    assert len(job.rows) == ROWS + 3000
    assert [row.table for row in (job.rows[LATE], job.rows[-1])] == ["opportunities", "deals"]


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"line_number": 0, "details": "d"}, "line_number"),
        ({"line_number": False, "details": "d"}, "line_number"),
        ({"line_number": "9", "details": "d"}, "line_number"),
        ({"line_number": 9, "details": 404}, "details"),
        ({"line_number": 9, "details": ["d"]}, "details"),
        ([9, "d"], ""),
        (None, ""),
    ],
)
@pytest.mark.parametrize("table", [1, 2])
def test_a_bad_line_in_a_late_chunk_is_the_same_error(
    bad: Any, path: str, table: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = [lines(), lines()]
    tables[table - 1][LATE] = bad
    error = alike(payload(*tables), monkeypatch)
    assert isinstance(error, PayloadError)
    assert error.path == DETAILS.format(table=table) + f"[{LATE}]" + (f".{path}" if path else "")
