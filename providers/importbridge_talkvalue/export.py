"""The failed-row export as a sans-I/O parser: feed it the body's bytes as they arrive, get rows.

``ExportParser`` never touches a socket: ``feed(chunk)`` returns the failed ``RowResult`` of
every record the chunk completed, ``close()`` says whether the body ended where a record ends
(a body cut short does not). So the sync client (``api.failed_rows``), an async engine and a
test with scripted chunks all parse alike.

A record is complete only once its line break has arrived (for a quoted cell holding line
breaks: the one after its closing quote), so a half-sent line is never read as a row. Records
are read exactly as ``csv.reader`` reads them (over lines split as ``open(newline="")``
splits them), a block at a time, by the cheapest reading that is exact for it: a block with
no quote character quotes nothing, so its lines are just split at commas (about a third of
``csv.reader``'s cost); a block whose every cell is quoted and holds no quote (as exporters
that quote everything write it) is split at its quotes, its cells sliced into columns; in
any other block every line is split at commas, then the lines with a quote, found from C
(``str.find``), are read again by one ``csv.reader``, which must read one record from each.
Whatever these cannot read exactly (a quoted line break) goes to ``csv.reader`` whole. Rows are
built a column at a time (``RowResult.of_columns``), each column a slice when every record has
as many cells, and a block's records are dropped before its rows are built, so the garbage
collector's count of new objects stays under its threshold.

The export's columns are not documented: the first row-number, error-code, error-message and
raw-value columns are recognised by name (``rowNum``, ``errorCode``, ``errorMessage``,
``rawValue``, or spellings such as ``row_number``); ``data`` is the raw value, as the contract
rules for TalkValue's ``failedRows`` (other columns are not read).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Mapping
from functools import reduce
from itertools import compress, repeat
from operator import iadd, itemgetter

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
#: lines with a quote in a block found one by one and put in place; a block with more (an export
#: quoting a column on every line) is cheaper read by one csv.reader over all its lines
_QUOTED_LINES = 16
#: distinct (code, message) pairs shared before the cache starts over: its keys and errors stay
#: well below the collector's threshold of new objects (700), so they alone set off no collection
_ERRORS_KEPT = 128
#: the line breaks ``open(newline="")`` reads
_LINE_BREAKS = ("\r\n", "\n", "\r")
#: where ``str.splitlines`` breaks a line and ``open(newline="")`` does not
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class ExportParser:
    """Incremental parser of TalkValue's failed-row export (header first, then one row each)."""

    def __init__(self, encoding: str = "utf-8") -> None:
        self._decode = codecs.getincrementaldecoder(encoding)().decode
        self._rest = ""  # text after the last complete record
        self._columns: tuple[int, int, int, int, int] | None = None  # at row/code/message/data, width
        self._has_data = False
        self._known = 0  # cells of the header
        self._errors = _Errors()  # (code, message) -> the shared JobError
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
        fresh = self._columns is None
        if "\0" not in text and not any(map(text.__contains__, _OTHER_BREAKS)):
            body = self._first_line(text) if fresh else text
            if body is not None:
                rows = self._fast(body)
                if rows is not None:
                    return rows
        if fresh:  # the header is read again below
            self._columns = None
        lines = io.StringIO(text, newline="").readlines()
        if final:
            records = list(csv.reader(lines))
        else:
            records = list(csv.reader([*lines, _PROBE]))
            if records.pop() != [_PROBE]:  # the last record is still open: keep its lines
                self._rest = "".join(lines[_complete_lines(lines, len(records)) :]) + self._rest
        if self._columns is None and records:
            self._header(records.pop(0))
        return self._rows(list(filter(None, records)))

    def _first_line(self, text: str) -> str | None:
        """Read the header from the first line of ``text`` and return the text after it, or
        None when that line is not one whole record (a quoted name holding a line break)."""
        first = text.splitlines(keepends=True)[0]
        line = first.rstrip("\r\n")
        header = _records([line]) if '"' in line else [line.split(",")]
        if header is None:
            return None
        self._header(header[0])
        return text[len(first) :]

    def _fast(self, text: str) -> list[RowResult] | None:
        """The rows of ``text`` (whole lines, no NUL, no line break but CR and LF) when
        each of its lines is one record, else None (``csv.reader`` then reads the block).

        A block whose every cell is quoted (and holds no quote) is split at its quotes; any
        other is split into lines and each line at commas (``_split_lines``).
        """
        assert self._columns is not None
        if text.startswith('"'):
            rows = self._all_quoted(text)
            if rows is not None:
                return rows
        split = _split_lines(text, self._columns[4] + 1)
        return None if split is None else self._rows(split[0], split=split[1])

    def _all_quoted(self, text: str) -> list[RowResult] | None:
        """The rows of ``text`` when every line is ``"cell","cell",...,"cell"`` with the same
        number of cells, none holding a quote, and one kind of line break; else None.

        Split at its quotes, such a block alternates: the gaps between quotes (the block's
        start, then commas and line breaks) and the cells' text, which ``csv.reader`` reads
        as is (a cell's line breaks included). The gaps are checked whole, from C.
        """
        parts = text.split('"')
        gaps = parts[::2]
        end = gaps[-1]
        if gaps[0] or end not in _LINE_BREAKS or len(parts) % 2 == 0:
            return None
        width = gaps.index(end, 1)  # cells in the first line
        lines, extra = divmod(len(gaps) - 1, width)
        if extra or gaps[width::width].count(end) != lines or gaps.count(",") != lines * (width - 1):
            return None
        cells = parts[1::2]
        del parts, gaps  # fewer live objects (a smaller working set) while the rows are built
        assert self._columns is not None
        short = width < self._columns[4]  # a role's cell is missing: slices would be short, not fail
        columns = None if short else self._columns_of(lambda at: cells[at::width])
        if columns is None:
            return self._each([cells[at : at + width] for at in range(0, len(cells), width)])
        cells.clear()
        return self._built(*columns)

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
        self._known = missing  # cells past the header's are no role's (a ragged record's extra)
        self._has_data = "data" in roles

    def _rows(self, records: list[list[str]], *, split: bool = False) -> list[RowResult]:
        """One failed row per record (none is empty), a column at a time (``_columns_of``). A
        block with a short record or a row number that is not a non-negative int goes row by
        row (``_each``).

        ``split`` records are lines cut by ``str.split(",", read)`` (``read``: the columns
        read), so none has more than ``read + 1`` cells; when all have that many, the records
        are laid end to end (``reduce`` by ``iadd``, half the cost of ``chain``) and each column
        is a slice. Else each column is picked record by record (``itemgetter``)."""
        assert self._columns is not None
        width = self._columns[4] + 1
        cells: list[str] = reduce(iadd, records, []) if split else []
        if split and len(cells) == width * len(records):  # none longer, so none shorter
            columns = self._columns_of(lambda at: cells[at::width])
        else:
            columns = self._columns_of(lambda at: map(itemgetter(at), records))
        if columns is None:
            return self._each(records)
        # the records go before the rows are built (emptied: a caller may hold the list), so a
        # block never has both alive: the collector's count of new objects stays below its
        # threshold, and the young generation is not walked
        records.clear()
        cells.clear()
        return self._built(*columns)

    def _columns_of(
        self, column: Callable[[int], Iterable[str]]
    ) -> tuple[list[int], list[JobError], list[str] | None] | None:
        """The row numbers, errors and raw values of a block whose records' cells at ``i`` are
        ``column(i)``, or None when a role's cell is missing (a short record) or a row number
        is not a non-negative int. All is taken from C; the errors are looked up one shared
        ``JobError`` per code and message, through ``zip``'s reused tuple."""
        assert self._columns is not None
        at_row, at_code, at_message, at_data, _ = self._columns
        known = self._known
        if at_row >= known:  # no row-number column: every row's is none, read row by row
            return None
        try:
            numbers = list(map(int, column(at_row)))
            rows = len(numbers)  # a role without a column reads "" (not a ragged record's cell)
            keys = zip(
                column(at_code) if at_code < known else repeat("", rows),
                column(at_message) if at_message < known else repeat("", rows),
                strict=True,
            )
            errors = list(map(self._errors.__getitem__, keys))
            data = list(column(at_data)) if self._has_data else None
        except (IndexError, ValueError):
            return None
        if numbers and min(numbers) < 0:
            return None
        return numbers, errors, data

    def _built(self, numbers: list[int], errors: list[JobError], data: list[str] | None) -> list[RowResult]:
        """The rows of a block's columns (the hot path of ``failed_rows``), built by
        ``RowResult.of_columns``."""
        rows = RowResult.of_columns(numbers, repeat(RowOutcome.FAILED), None, errors, data)
        self.rows += len(rows)
        return rows

    def _each(self, records: list[list[str]]) -> list[RowResult]:
        """Rows one record at a time: short records padded, a row number that is not a
        non-negative int read as none."""
        assert self._columns is not None
        at_row, at_code, at_message, at_data, width = self._columns
        has_data = self._has_data
        make, failed = RowResult.of, RowOutcome.FAILED
        rows: list[RowResult] = []
        known = self._known
        for fields in records:
            if len(fields) != width:  # padded; past the header's cells, none is read
                fields = fields[:known] + [""] * (width - min(len(fields), known))
            try:
                row: int | None = int(fields[at_row])
            except ValueError:
                row = None
            error = self._errors[fields[at_code], fields[at_message]]
            data = fields[at_data] if has_data else None
            rows.append(make(row if row is None or row >= 0 else None, failed, None, error, data))
        self.rows += len(rows)
        return rows


class _Errors(dict[tuple[str, str], JobError]):
    """The one ``JobError`` of each (code, message), made on first sight (``__missing__``), so
    a block's errors are all looked up from C (``map`` over ``__getitem__``), with ``zip``
    reusing its key tuple: a row costs no tuple unless its error is new."""

    def __missing__(self, key: tuple[str, str]) -> JobError:
        if len(self) >= _ERRORS_KEPT:  # many distinct errors: keep memory flat
            self.clear()
        code, message = key
        error = self[key] = JobError(code=code or None, message=message or None)
        return error


def _split_lines(text: str, width: int) -> tuple[list[list[str]], bool] | None:
    """The records of the lines of ``text``, each cut by ``str.split(",", width - 1)`` (cells
    past the columns read are not read), and True (they are cut so); or None when a line
    holding a quote is not one whole record (a quoted cell holding a line break):
    ``csv.reader`` then reads the block.

    Every line is split at once, from C. The few lines holding a quote are found by
    ``str.find``, and their place by ``list.index`` from the last one's (no line between
    holds a quote, so none between can read the same); one ``csv.reader``, which must read one
    record from each, reads them again into their places. Blank lines are no records. When more
    than ``_QUOTED_LINES`` lines hold a quote, it reads every line (records not cut: False)."""
    lines = text.splitlines()
    records = list(map(str.split, lines, repeat(","), repeat(width - 1)))
    quoted: list[str] = []  # the lines holding a quote
    places: list[int] = []  # and their places in ``lines``
    place = 0  # where the line after the last quoted one is in ``lines``
    at = 0  # and in ``text``
    quote = text.find('"')
    while quote >= 0:
        start = max(at, text.rfind("\n", at, quote) + 1, text.rfind("\r", at, quote) + 1)
        lf = text.find("\n", quote)
        cr = text.find("\r", quote, lf if lf >= 0 else len(text))
        end = cr if cr >= 0 else lf
        quoted.append(text[start:end])
        place = lines.index(quoted[-1], place)
        places.append(place)
        if len(quoted) > _QUOTED_LINES:  # most lines quoted: one csv.reader over all is cheaper
            read = _records(lines if all(lines) else list(filter(None, lines)))
            return None if read is None else (read, False)
        place += 1
        at = end + (2 if text.startswith("\r\n", end) else 1)  # past the line break
        quote = text.find('"', at)
    if quoted:
        read = _records(quoted)
        if read is None:
            return None
        for place, record in zip(places, read, strict=True):
            records[place] = record[:width]
    return (records if all(lines) else list(compress(records, lines))), True


def _records(lines: list[str]) -> list[list[str]] | None:
    """``csv.reader``'s records of ``lines`` when it reads exactly one from each, else None."""
    reader = csv.reader([*lines, _PROBE])
    records = list(reader)
    if records.pop() != [_PROBE] or len(records) != len(lines) or reader.line_num != len(lines) + 1:
        return None
    return records


def _complete_lines(lines: list[str], records: int) -> int:
    """How many of ``lines`` the first ``records`` complete records span (rare: only when a
    quoted cell with line breaks straddles two chunks)."""
    reader = csv.reader(lines)
    for _ in range(records):
        next(reader)
    return reader.line_num
