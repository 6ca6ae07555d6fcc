"""Qobra ``GET /v1/imports/{import_id}`` payloads -> ``ImportJob``.

The body is ``{"data_import": {...}}``; one import may report several data tables ("imports
stack"), each with its own status, progress, record count and error. The rulings applied here
are written down in docs/providers.md (Qobra):

- scheduled -> pending, started -> running; finished -> complete / partial / failed by its
  tables (no table with an error / some / all), then settled by the counts when every table
  without an error reports ``number_of_records``;
- the top-level ``error`` flag (documented, missing from the docs' example) is derived from
  the tables when missing; ``true`` with no failing table still marks a job-level failure;
- progress is a percentage given as an int, a float or a numeric string;
- each ``parsing_error_details`` entry is a failed row (row = line_number, data = row,
  table = the data table key); succeeded = the sum of ``number_of_records`` over the tables
  without an error, when any is known (unknown when that sum is 0 and a table's count is missing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from importbridge import (
    ImportJob,
    JobError,
    JobState,
    PayloadReader,
    RowOutcome,
    RowResult,
    TableImport,
    settle_state,
)

from .words import STATUS_WORDS

__all__ = ["PROVIDER", "ROW_ARRAYS", "SAMPLES", "STATUS_WORDS", "normalize"]

PROVIDER = "qobra"

#: a finished import's state before the counts settle it, by (some table failed, all failed)
_FINISHED_BY_TABLES: Mapping[tuple[bool, bool], JobState] = MappingProxyType(
    {
        (False, False): JobState.COMPLETE,
        (True, False): JobState.PARTIAL,
        (True, True): JobState.FAILED,
    }
)

_FINISHED = JobState.COMPLETE  # (a module constant: reading an Enum member off its class costs)
_FAILED = RowOutcome.FAILED


def normalize(payload: Any) -> ImportJob:
    """Turn one Qobra import payload into an ``ImportJob`` (``raw`` is the payload)."""
    r = _import(payload)
    word, reported = r.status("status", STATUS_WORDS)
    tables: list[TableImport] = []
    parts: list[_Lines] = []  # each failing table's rows: built, or built when read
    clean = known = landed = 0  # tables without an error; those reporting records; their sum
    rejected: int | None = 0
    for table in r.items("data_tables_details", required=True):
        parsed, lines, listed = _table(table)
        tables.append(parsed)
        if parsed.error is None:
            clean += 1
            if parsed.records is not None:
                known += 1
                landed += parsed.records
            continue
        if lines[0]:
            parts.append(lines)
        if not listed:
            rejected = None  # a failing table that does not list its lines: count unknown
        elif rejected is not None:
            rejected += lines[0]
    failing = len(tables) - clean
    flag = r.boolean("error")
    has_error = bool(failing) if flag is None else flag or bool(failing)
    # a sum that leaves out a clean table is a floor: 0 would claim that nothing landed
    succeeded = landed if known and (landed or known == clean) else None
    if reported is _FINISHED:
        reported = _FINISHED_BY_TABLES[has_error, bool(tables) and not clean]
        if known == clean:  # every landed count is known: the counts decide
            reported = settle_state(reported, succeeded=landed, failed=rejected, job_error=has_error)
    return ImportJob.of(
        provider=PROVIDER,
        id=r.identifier("id", required=True),
        state=reported,
        provider_state=word,
        succeeded=succeeded,
        failed=rejected,
        progress=r.percent("progress", required=True),
        created_at=r.datetime("created_at", required=True),
        started_at=r.datetime("launched_at"),
        finished_at=r.datetime("finished_at"),
        error=_job_error(tables) if has_error else None,
        rows=_rows(parts) if parts else (),
        rows_complete=reported.is_terminal and not has_error,
        tables=tuple(tables),
        raw=payload,
    )


def _import(payload: Any) -> PayloadReader:
    """A reader for ``data_import`` (the envelope checked by a reader only when it is odd)."""
    inner = payload.get("data_import") if type(payload) is dict else None
    if type(inner) is dict:
        return PayloadReader(PROVIDER, inner, "data_import")
    reader = PayloadReader(PROVIDER, payload).child("data_import", required=True)
    assert reader is not None  # required=True raises instead
    return reader


def _job_error(tables: list[TableImport]) -> JobError:
    """The job-level error: the first failing table's, or an empty one when only the flag says so."""
    return next((table.error for table in tables if table.error is not None), JobError())


#: a failing table's listed lines: how many, and their rows (or how to build them)
_Lines = tuple[int, "tuple[RowResult, ...] | Callable[[], tuple[RowResult, ...]]"]
_NO_LINES: _Lines = (0, ())


def _rows(parts: list[_Lines]) -> tuple[RowResult, ...] | Callable[[], tuple[RowResult, ...]]:
    """Every table's rows in order: built now when all are, else a builder of them all."""
    if any(callable(rows) for _, rows in parts):
        return functools.partial(_built, parts)
    return _built(parts)


def _built(parts: list[_Lines]) -> tuple[RowResult, ...]:
    built: list[RowResult] = []
    for _, rows in parts:
        built.extend(rows() if callable(rows) else rows)
    return tuple(built)


def _table(t: PayloadReader) -> tuple[TableImport, _Lines, bool]:
    """One ``data_tables_details`` entry: its TableImport, its failed lines, whether it lists them."""
    word, reported = t.status("status", STATUS_WORDS)
    key = t.string("data_table_key") or ""
    records = t.count("number_of_records")
    error: JobError | None = None
    lines = _NO_LINES
    listed = False
    if t.data.get("error") is not None:
        problem = t.child("error")
        assert problem is not None  # present and not null
        error = JobError(code=problem.string("title"), message=problem.string("description"))
        listed = problem.has("parsing_error_details")
        details = problem.objects("parsing_error_details")
        build = functools.partial(_failed_lines, problem, details, error.code, key or None)
        # every entry checked: built when read; an unusual one: built (and explained) now
        plain = all(PayloadReader.fold(details, _plain))
        lines = (len(details), build if plain else build())
    if reported is _FINISHED:
        reported = settle_state(
            reported,
            succeeded=records,
            failed=lines[0] if listed else None,
            job_error=error is not None,
        )
    table = TableImport.of(
        key=key,
        source=t.string("type", required=True),
        state=reported,
        provider_state=word,
        progress=t.percent("progress", required=True),
        records=records,
        error=error,
    )
    return table, lines, listed


#: whether a chunk of ``parsing_error_details`` holds only lines ``_failed_lines`` takes as they are
_plain = functools.partial(PayloadReader.plain_rows, texts=("details",), row_number="line_number")

#: ``Provider.row_arrays``: a long payload's failed lines, table by table, in chunks
ROW_ARRAYS: Mapping[str, Callable[[list[Any]], object]] = MappingProxyType(
    {"data_import.data_tables_details[].error.parsing_error_details": _plain}
)


def _failed_lines(
    problem: PayloadReader, entries: Sequence[Mapping[str, Any]], code: str | None, table: str | None
) -> tuple[RowResult, ...]:
    """``parsing_error_details`` as failed rows; the loop checks exact types inline and reads
    an odd entry through its reader, which names the bad field."""
    rows: list[RowResult] = []
    append = rows.append
    make = RowResult.of  # the constructor's checks, positionally: cheaper per row
    errors: dict[Any, JobError] = {}  # rows share equal (immutable) errors
    for index, line in enumerate(entries):
        number = line.get("line_number")
        details = line.get("details")
        if not (
            (number is None or (type(number) is int and number >= 1))
            and (details is None or type(details) is str)
        ):
            entry = problem.item("parsing_error_details", index)
            number, details = entry.row_number("line_number"), entry.string("details")
        error = errors.get(details)
        if error is None:
            error = errors[details] = JobError(code=code, message=details)
        append(make(number, _FAILED, None, error, line.get("row"), table))
    return tuple(rows)


# The docs' example (OpenAPI ``ImportModelResponseSuccessExample``), as JSON.
DOCS_EXAMPLE: dict[str, Any] = {
    "data_import": {
        "id": "647a13fe875af4b4eb7133c2",
        "created_at": "2024-06-25T09:58:32Z",
        "launched_at": "2024-06-25T10:03:27Z",
        "finished_at": "2024-06-25T10:14:12Z",
        "status": "finished",
        "progress": 100,
        "data_tables_details": [
            {
                "type": "api",
                "status": "finished",
                "data_table_key": "companies",
                "progress": 100,
                "number_of_records": 122,
                "error": None,
            },
            {
                "type": "api",
                "status": "finished",
                "data_table_key": "opportunities",
                "progress": 100,
                "number_of_records": None,
                "error": {
                    "title": "ParsingError",
                    "description": "Can't parse 'AAAAA' as float for user attribute amount",
                    "parsing_error_details": [
                        {
                            "line_number": 1,
                            "row": {
                                "id": "1",
                                "name": "Great opportunity",
                                "user": "user@example.fr",
                                "amount": "AAAAA",
                            },
                            "details": "ValueError: could not convert string to float: 'AAAAA'",
                        }
                    ],
                },
            },
        ],
    }
}

SAMPLES: tuple[Any, ...] = (
    DOCS_EXAMPLE,
    # scheduled (debounced): nothing launched yet, progress as the declared string type
    {
        "data_import": {
            "id": "665f1b2c3d4e5f6a7b8c9d01",
            "created_at": "2024-06-25T09:58:32Z",
            "launched_at": None,
            "finished_at": None,
            "status": "scheduled",
            "progress": "0",
            "error": False,
            "data_tables_details": [
                {"type": "api", "status": "scheduled", "data_table_key": "deals", "progress": "0"}
            ],
        }
    },
    # started, two stacked tables at different stages, float progress
    {
        "data_import": {
            "id": "665f1b2c3d4e5f6a7b8c9d02",
            "created_at": "2024-06-25T09:58:32Z",
            "launched_at": "2024-06-25T10:03:27Z",
            "finished_at": None,
            "status": "started",
            "progress": 62.5,
            "error": False,
            "data_tables_details": [
                {
                    "type": "api",
                    "status": "finished",
                    "data_table_key": "companies",
                    "progress": 100,
                    "number_of_records": 40,
                    "error": None,
                },
                {
                    "type": "csv",
                    "status": "started",
                    "data_table_key": "deals",
                    "progress": "25",
                    "number_of_records": None,
                    "error": None,
                },
            ],
        }
    },
    # finished cleanly, error flag stated
    {
        "data_import": {
            "id": "665f1b2c3d4e5f6a7b8c9d03",
            "created_at": "2024-06-25T09:58:32Z",
            "launched_at": "2024-06-25T10:03:27Z",
            "finished_at": "2024-06-25T10:04:02Z",
            "status": "finished",
            "progress": "100",
            "error": False,
            "data_tables_details": [
                {
                    "type": "integration",
                    "status": "finished",
                    "data_table_key": "users",
                    "progress": "100",
                    "number_of_records": 12,
                    "error": None,
                }
            ],
        }
    },
    # finished, every table failed: one with parsing details, one without
    {
        "data_import": {
            "id": "665f1b2c3d4e5f6a7b8c9d04",
            "created_at": "2024-06-25T09:58:32Z",
            "launched_at": "2024-06-25T10:03:27Z",
            "finished_at": "2024-06-25T10:03:40Z",
            "status": "finished",
            "progress": 100,
            "error": True,
            "data_tables_details": [
                {
                    "type": "api",
                    "status": "finished",
                    "data_table_key": "opportunities",
                    "progress": 100,
                    "number_of_records": None,
                    "error": {
                        "title": "ParsingError",
                        "description": "Can't parse 'soon' as date for attribute close_date",
                        "parsing_error_details": [
                            {
                                "line_number": 3,
                                "row": {"id": "3", "close_date": "soon"},
                                "details": "ValueError: Invalid isoformat string: 'soon'",
                            },
                            {
                                "line_number": 7,
                                "row": {"id": "7", "close_date": "later"},
                                "details": "ValueError: Invalid isoformat string: 'later'",
                            },
                        ],
                    },
                },
                {
                    "type": "api",
                    "status": "finished",
                    "data_table_key": "quotas",
                    "progress": 100,
                    "number_of_records": None,
                    "error": {"title": "UnknownTable", "description": "No data table with key quotas"},
                },
            ],
        }
    },
)
