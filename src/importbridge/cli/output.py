"""Printing jobs, rows and tables: JSON for programs, readable tables for people.

Tables use rich (the ``[cli]`` extra) when it is installed and fall back to aligned plain text;
either way rich is imported only when something is printed for a person.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from .exits import ExitCode, exit_code_for_state

if TYPE_CHECKING:
    from importbridge.model import ImportJob, RowResult

__all__ = [
    "emit_job",
    "finish",
    "job_summary",
    "print_json",
    "print_table",
    "row_to_dict",
]

SAMPLE_ROWS = 5  # rejected rows shown under a job in the readable view


def _fits(text: str, stream: IO[str]) -> bool:
    """Whether ``stream``'s encoding carries ``text`` as it is (a lone surrogate fits none)."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True  # a text buffer (StringIO) holds any string
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


#: line breaks JSON leaves raw in strings but ``str.splitlines`` (and old JavaScript) break on
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def print_json(document: Any, file: IO[str] | None = None) -> None:
    """One JSON document on one line (so several make JSON lines).

    Text is written as it is where the stream's encoding carries it, else as ``\\uXXXX``
    escapes: the same JSON either way, whatever the terminal's encoding. A document never
    spans lines, for any reader's idea of a line break.
    """
    out = file or sys.stdout
    text = json.dumps(document, ensure_ascii=False, default=str).translate(_LINE_BREAKS)
    if not _fits(text, out):
        text = json.dumps(document, ensure_ascii=True, default=str)
    out.write(text + "\n")
    out.flush()


def _rich_console(file: IO[str]) -> Any:
    try:
        from rich.console import Console
    except ImportError:
        return None
    width = None if file.isatty() else 160  # pipes and files: wide enough not to wrap ids
    return Console(file=file, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=False, width=width)


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str | None = None,
    file: IO[str] | None = None,
) -> None:
    """A table for people: rich's when available, plain aligned columns otherwise."""
    out = file or sys.stdout
    cells = [["" if value is None else str(value) for value in row] for row in rows]
    console = _rich_console(out) if headers else None  # label/value lines read best as plain text
    if console is not None:
        from rich import box
        from rich.table import Table

        table = Table(
            *headers, title=title, box=box.SIMPLE_HEAD, title_justify="left", show_header=bool(headers)
        )
        for row in cells:
            table.add_row(*row)
        console.print(table)
        return
    lines = [list(headers), *cells] if headers else cells
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines else []
    if title:
        out.write(title + "\n")
    for line in lines:
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.write("  ".join(padded).rstrip() + "\n")
    out.flush()


def _count(label: str, value: int | None) -> str | None:
    return None if value is None else f"{value} {label}"


def _joined(*parts: str | None) -> str:
    return ", ".join(part for part in parts if part) or "not reported"


def job_summary(job: ImportJob) -> list[tuple[str, str]]:
    """The readable view of a job as (label, value) lines; unknown facts are left out."""
    state = job.state.value if job.provider_state.lower() == job.state.value else (
        f"{job.state.value} (provider says {job.provider_state})"
    )
    lines: list[tuple[str, str]] = [
        ("provider", job.provider),
        ("job", job.id if job.id is not None else "(none: finished in the submit response)"),
        ("state", state),
        ("rows", _joined(_count("total", job.total), _count("processed", job.processed),
                         _count("succeeded", job.succeeded), _count("failed", job.failed))),
    ]
    landed = [_count(label, value) for label, value in (
        ("created", job.created), ("updated", job.updated),
        ("duplicates", job.duplicates), ("skipped", job.skipped))]
    if any(landed):
        lines.append(("landed", _joined(*landed)))
    if job.progress is not None:
        lines.append(("progress", f"{job.progress:.0%}"))
    for label, value in (("mode", job.mode), ("file", job.file_name)):
        if value:
            lines.append((label, value))
    for label, moment in (("created at", job.created_at), ("finished at", job.finished_at),
                          ("expires at", job.expires_at)):
        if moment is not None:
            lines.append((label, moment.isoformat().replace("+00:00", "Z")))
    if job.error is not None:
        lines.append(("error", _error_text(job.error.code, job.error.message)))
    for table in job.tables:
        error = None if table.error is None else _error_text(table.error.code, table.error.message)
        detail = _joined(_count("records", table.records), error)
        lines.append((f"table {table.key}", f"{table.state.value}: {detail}"))
    return lines


def _error_text(code: str | None, message: str | None) -> str:
    return ": ".join(part for part in (code, message) if part) or "unspecified"


def _data_text(data: Any, limit: int = 60) -> str:
    if data is None:
        return ""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


REJECTED_COLUMNS = ("row", "table", "reason", "data")


class RejectedRows(NamedTuple):
    """A sample of a job's rejected rows, ready to print."""

    title: str
    headers: tuple[str, ...]
    rows: list[list[str]]


def _without_empty_columns(
    headers: Sequence[str], rows: list[list[str]]
) -> tuple[tuple[str, ...], list[list[str]]]:
    """Drop columns no row fills (no table for single-table providers, no data when not echoed)."""
    keep = [index for index in range(len(headers)) if any(row[index] for row in rows)]
    return tuple(headers[i] for i in keep), [[row[i] for i in keep] for row in rows]


def rejected_rows_table(job: ImportJob, limit: int = SAMPLE_ROWS) -> RejectedRows | None:
    """The first rejected rows of ``job`` (title, headers, rows), or None when none are known."""
    rejected = job.failed_rows()
    if not rejected:
        return None
    known = job.failed if job.failed is not None else len(rejected)
    title = f"rejected rows (first {min(limit, len(rejected))} of {known})"
    rows = [
        [
            "" if row.row is None else str(row.row),
            row.table or "",
            _error_text(row.error.code if row.error else None, row.error.message if row.error else None),
            _data_text(row.data),
        ]
        for row in rejected[:limit]
    ]
    return RejectedRows(title, *_without_empty_columns(REJECTED_COLUMNS, rows))


def emit_job(job: ImportJob, *, as_json: bool, file: IO[str] | None = None) -> None:
    """Print one job: its contract JSON, or the readable view with a sample of rejected rows."""
    out = file or sys.stdout
    if as_json:
        from importbridge.convert import to_dict

        print_json(to_dict(job), out)
        return
    print_table((), job_summary(job), file=out)
    sample = rejected_rows_table(job)
    if sample is not None:
        print_table(sample.headers, sample.rows, title=sample.title, file=out)


def finish(job: ImportJob, *, as_json: bool) -> int:
    """Print ``job`` and return the exit status its state means."""
    emit_job(job, as_json=as_json)
    return int(exit_code_for_state(job.state.value))


def row_to_dict(row: RowResult) -> dict[str, Any]:
    """A row result in the contract's JSON shape."""
    return {
        "row": row.row,
        "outcome": row.outcome.value,
        "record_id": row.record_id,
        "error": None if row.error is None else {"code": row.error.code, "message": row.error.message},
        "data": row.data,
        "table": row.table,
    }


def worst(codes: Iterable[int]) -> int:
    """The exit status for several jobs: any error beats failed beats partial beats complete."""
    order = (ExitCode.ERROR, ExitCode.TIMED_OUT, ExitCode.USAGE, ExitCode.FAILED, ExitCode.PARTIAL)
    seen = set(codes)
    return next((int(code) for code in order if code in seen), int(ExitCode.COMPLETE))
