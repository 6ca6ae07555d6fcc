"""Reading what the user hands the command: payload files and record files (CSV or JSON lines).

Files are read as bytes and decoded here, so every problem with them is an ``InputError``
naming the file and the line (exit 2), never a crash: a UTF-8 byte-order mark is dropped (Excel
writes one), text that is not in the expected encoding names the byte and its offset, a CSV
header with a duplicated or empty column is refused (a duplicate would silently drop a value),
and JSON is read strictly (no ``NaN``, no unbounded nesting).
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from typing import Any

from importbridge.errors import InputError
from importbridge.jsontext import JSONTextError, loads

__all__ = ["STDIN", "decode_text", "encoding", "read_bytes", "read_records", "read_text"]

STDIN = "-"
DEFAULT_ENCODING = "utf-8"
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
#: byte-order marks that say a file is not UTF-8 at all, and what to pass instead (UTF-32 first:
#: its little-endian mark begins with UTF-16's)
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def encoding(text: str) -> str:
    """``--encoding``'s type: a codec Python knows (else a usage error, 2)."""
    import argparse

    try:
        info = codecs.lookup(text)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):  # rot13, hex: not for text
        raise argparse.ArgumentTypeError(f"unknown text encoding {text!r} (e.g. utf-8, cp1252, utf-16)")
    return info.name


def _display_name(path: str) -> str:
    return "stdin" if path == STDIN else path


def read_bytes(path: str) -> bytes:
    """The whole of ``path`` (``-`` for stdin), undecoded; an unreadable file is an ``InputError``."""
    if path == STDIN:
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:  # a text stream without bytes underneath (an embedding program's)
            return sys.stdin.read().encode("utf-8", "surrogatepass")
        data: bytes = buffer.read()
        return data
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:  # a NUL, or a character the file system cannot encode, in the name
        raise InputError(f"cannot read {path!r}: no file can have that name") from None


def _foreign_bom(data: bytes) -> str | None:
    return next((codec for bom, codec in _FOREIGN_BOMS if data.startswith(bom)), None)


def decode_text(data: bytes, name: str, codec: str = DEFAULT_ENCODING) -> str:
    """``data`` as text in ``codec``, without a leading byte-order mark.

    Bytes that are not ``codec`` raise an ``InputError`` naming the line, the byte and its offset.
    """
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        foreign = _foreign_bom(data) if codec == DEFAULT_ENCODING else None
        if foreign is not None:
            hint = f" (it starts with a {foreign.upper()} byte-order mark: pass --encoding {foreign})"
        elif codec == DEFAULT_ENCODING:
            hint = " (pass --encoding for another one, e.g. --encoding cp1252)"
        raise InputError(
            f"{name} line {line}: not {codec} text: byte 0x{data[exc.start]:02x} at offset {exc.start}{hint}"
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: str, codec: str = DEFAULT_ENCODING) -> str:
    """The whole of ``path`` (``-`` for stdin) as text; see ``decode_text``."""
    return decode_text(read_bytes(path), _display_name(path), codec)


def read_records(path: str, codec: str = DEFAULT_ENCODING) -> list[dict[str, Any]]:
    """Records from a CSV file (header row) or JSON lines (one object per line; a JSON array works too).

    The format follows the suffix (``.csv``; ``.jsonl`` / ``.ndjson`` / ``.json``) or, for stdin and
    other names, the first character: ``{`` or ``[`` means JSON.
    """
    text = read_text(path, codec)
    name = _display_name(path)
    lowered = path.lower()
    stripped = text.lstrip()
    looks_json = stripped[:1] in {"{", "["}
    if lowered.endswith(_JSON_LINES_SUFFIXES) or (not lowered.endswith(".csv") and looks_json):
        if stripped.startswith("["):
            return _json_array(stripped, name)
        return _json_lines(text, name)
    return _csv(text, name)


def _json(text: str, where: str) -> Any:
    try:
        return loads(text)
    except JSONTextError as exc:
        raise InputError(f"{where}: {exc}") from None


def _json_array(text: str, name: str) -> list[dict[str, Any]]:
    value = _json(text, name)
    records = value if isinstance(value, list) else [value]
    for index, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise InputError(f"{name}: item {index} is {type(record).__name__}, not a JSON object")
    return records


def _json_lines(text: str, name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.split("\n"), 1):  # JSON escapes every other line break
        if not line.strip():
            continue
        record = _json(line, f"{name} line {number}")
        if not isinstance(record, dict):
            raise InputError(f"{name} line {number}: {type(record).__name__}, not a JSON object")
        records.append(record)
    return records


def _check_header(header: list[str], name: str, line: int) -> None:
    """Refuse a header a record cannot be built from without losing a value."""
    seen: dict[str, int] = {}
    for column, cell in enumerate(header, 1):
        if not cell.strip():
            raise InputError(f"{name} line {line}: header column {column} is empty (columns need names)")
        if cell in seen:
            raise InputError(
                f"{name} line {line}: header column {cell!r} appears twice (columns {seen[cell]} and "
                f"{column}); one of its values would be lost"
            )
        seen[cell] = column


def _csv(text: str, name: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[dict[str, Any]] = []
    try:
        rows = (cells for cells in reader if cells)  # a blank line is no record
        header = next(rows, None)
        if header is None:
            raise InputError(f"{name}: empty CSV (a header row is needed)")
        _check_header(header, name, reader.line_num)
        for cells in rows:
            if len(cells) > len(header):
                raise InputError(f"{name} line {reader.line_num}: {len(cells)} cells, more than the "
                                 f"header's {len(header)} columns")
            records.append(dict(zip(header, cells, strict=False)))  # a short row leaves its last columns out
    except csv.Error as exc:
        raise InputError(f"{name} line {reader.line_num}: {exc}") from None
    return records
