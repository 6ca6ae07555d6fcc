"""The failed-row export as a sans-I/O parser: feed it the body's bytes as they arrive, get rows.

``ExportParser`` never touches a socket: ``feed(chunk)`` returns the failed ``RowResult`` of
every record the chunk completed, ``close()`` says whether the body ended where a record ends
(a body cut short does not). So the sync client (``api.failed_rows``), an async engine and a
test with scripted chunks all parse alike.

A record is complete only once its line break has arrived (for a quoted cell holding line
breaks: the one after its closing quote), so a half-sent line is never read as a row. Records
are read exactly as ``csv.reader`` reads them (over lines split as ``open(newline="")``
splits them); a block of text with no quote character quotes nothing, so its lines are just
split at commas, at about half of ``csv.reader``'s cost.

The export's columns are not documented: the first row-number, error-code, error-message and
raw-value columns are recognised by name (``rowNum``, ``errorCode``, ``errorMessage``,
``rawValue``, or spellings such as ``row_number``); ``data`` is the raw value, as the contract
rules for TalkValue's ``failedRows`` (other columns are not read).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from typing import Any

from importbridge import JobError, RowOutcome, RowResult

__all__ = ["EXPORT_COLUMNS", "ExportParser"]

#: failed-export column (lowercased, without '_' and ' ') -> what it carries
EXPORT_COLUMNS: Mapping[str, str] = {
    "rownum": "row",
    "row": "row",
    "rownumber": "row",
    "line": "row",
    "linenumber": "row",
    "errorcode": "code",
    "code": "code",
    "errormessage": "message",
    "message": "message",
    "error": "message",
    "rawvalue": "data",
    "raw": "data",
}

_ROLES = ("row", "code", "message", "data")
#: read after the lines of a block with quotes: a record of its own when every record before
#: it was complete; taken into the last record's quoted cell when that record is still open
_PROBE = "\x00importbridge: end of block\x00"
_ERRORS_KEPT = 1024  # distinct (code, message) pairs shared before the cache starts over


class ExportParser:
    """Incremental parser of TalkValue's failed-row export (header first, then one row each)."""

    def __init__(self, encoding: str = "utf-8") -> None:
        self._decode = codecs.getincrementaldecoder(encoding)().decode
        self._rest = ""  # text after the last complete record
        self._columns: tuple[int, int, int, int, int] | None = None  # at row/code/message/data, width
        self._has_data = False
        self._errors: dict[str, dict[str, JobError]] = {}  # code -> message -> the shared one
        self._cached = 0
        self.rows = 0  # rows returned so far

    def feed(self, chunk: bytes) -> list[RowResult]:
        """The rows of every record ``chunk`` completes (none for a partial line)."""
        text = self._rest + self._decode(chunk)
        end = text.rfind("\n") + 1
        if not end:
            self._rest = text
            return []
        self._rest = text[end:]
        return self._block(text[:end])

    def close(self) -> tuple[list[RowResult], bool]:
        """The rows of what is left at the end of the body, and whether it ended at a line end.

        A last line ended by ``\\r`` alone is read; text after the last line break is not (a
        body cut short ends mid-line), and ``False`` says so.
        """
        text = self._rest + self._decode(b"", True)
        self._rest = ""
        if not text:
            return [], True
        end = max(text.rfind("\n"), text.rfind("\r")) + 1
        return (self._block(text[:end], final=True) if end else []), end == len(text)

    # -- records -> rows ------------------------------------------------------------------------

    def _block(self, text: str, *, final: bool = False) -> list[RowResult]:
        """Rows of ``text``, which ends with a line break. A record still open at its end (a
        quoted cell going on) waits for more text, unless this is the ``final`` block: then it
        is read as ``csv.reader`` reads a file that ends there."""
        if '"' not in text and "\0" not in text:
            if "\r" in text and text.count("\r") == text.count("\r\n"):
                text = text.replace("\r\n", "\n")
            if "\r" not in text:
                lines = text.split("\n")
                if self._columns is None:
                    self._header(lines[0].split(","))
                    del lines[0]
                return self._rows(lines, split=True)
        lines = io.StringIO(text, newline="").readlines()
        if final:
            records = list(csv.reader(lines))
        else:
            records = list(csv.reader([*lines, _PROBE]))
            if records.pop() != [_PROBE]:  # the last record is still open: keep its lines
                self._rest = "".join(lines[_complete_lines(lines, len(records)) :]) + self._rest
        if self._columns is None and records:
            self._header(records.pop(0))
        return self._rows(records, split=False)

    def _header(self, names: list[str]) -> None:
        roles: dict[str, int] = {}
        for index, name in enumerate(names):
            role = EXPORT_COLUMNS.get(name.strip().lower().replace("_", "").replace(" ", ""))
            if role is not None:
                roles.setdefault(role, index)
        missing = len(names)  # a role without a column reads this padding index: always ""
        width = max(roles.values(), default=-1) + 1 if len(roles) == 4 else len(names) + 1
        at_row, at_code, at_message, at_data = (roles.get(role, missing) for role in _ROLES)
        self._columns = (at_row, at_code, at_message, at_data, width)
        self._has_data = "data" in roles

    def _rows(self, records: list[Any], *, split: bool) -> list[RowResult]:
        """One failed row per non-empty record; ``split``: records are lines to split at commas.

        The hot path of ``failed_rows``: column positions are resolved once, repeated errors
        share one ``JobError``. (A column-by-column version with ``map`` was measured slower:
        its intermediate lists cost more than the loop they save.)
        """
        assert self._columns is not None
        at_row, at_code, at_message, at_data, width = self._columns
        has_data = self._has_data
        errors = self._errors
        make, failed = RowResult.of, RowOutcome.FAILED
        rows: list[RowResult] = []
        append = rows.append
        for record in records:
            if not record:
                continue
            fields = record.split(",", width) if split else record
            if len(fields) < width:
                fields = fields + [""] * (width - len(fields))
            code, message = fields[at_code], fields[at_message]
            try:
                error = errors[code][message]
            except KeyError:
                error = self._error(code, message)
            try:
                row: int | None = int(fields[at_row])
            except ValueError:
                row = None
            data = fields[at_data] if has_data else None
            append(make(row if row is None or row >= 0 else None, failed, None, error, data))
        self.rows += len(rows)
        return rows

    def _error(self, code: str, message: str) -> JobError:
        """The one ``JobError`` for this (code, message), made on first sight."""
        if self._cached >= _ERRORS_KEPT:  # many distinct errors: keep memory flat
            self._errors.clear()
            self._cached = 0
        error = JobError(code=code or None, message=message or None)
        self._errors.setdefault(code, {})[message] = error
        self._cached += 1
        return error


def _complete_lines(lines: list[str], records: int) -> int:
    """How many of ``lines`` the first ``records`` complete records span (rare: only when a
    quoted cell with line breaks straddles two chunks)."""
    reader = csv.reader(lines)
    for _ in range(records):
        next(reader)
    return reader.line_num
