"""Reading what the user hands the command: payload files and record files (CSV or JSON lines)."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from .exits import CommandError

__all__ = ["read_records", "read_text"]

STDIN = "-"
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")


def read_text(path: str) -> str:
    """The whole of ``path`` (``-`` for stdin) as UTF-8 text; unreadable input is a usage error."""
    if path == STDIN:
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from None


def read_records(path: str) -> list[dict[str, Any]]:
    """Records from a CSV file (header row) or JSON lines (one object per line; a JSON array works too).

    The format follows the suffix (``.csv``; ``.jsonl`` / ``.ndjson`` / ``.json``) or, for stdin and
    other names, the first character: ``{`` or ``[`` means JSON.
    """
    text = read_text(path)
    name = "stdin" if path == STDIN else path
    lowered = path.lower()
    stripped = text.lstrip()
    if lowered.endswith(_JSON_LINES_SUFFIXES) or (not lowered.endswith(".csv") and stripped[:1] in "{["):
        if stripped.startswith("["):
            return _json_array(stripped, name)
        return _json_lines(text, name)
    return _csv(text, name)


def _json_array(text: str, name: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{name}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    records = value if isinstance(value, list) else [value]
    for index, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise CommandError(f"{name}: item {index} is {type(record).__name__}, not a JSON object")
    return records


def _json_lines(text: str, name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{name} line {number}: not JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(record, dict):
            raise CommandError(f"{name} line {number}: {type(record).__name__}, not a JSON object")
        records.append(record)
    return records


def _csv(text: str, name: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise CommandError(f"{name}: empty CSV (a header row is needed)")
    records: list[dict[str, Any]] = []
    try:
        for record in reader:
            if None in record:
                raise CommandError(f"{name} line {reader.line_num}: more cells than header columns")
            records.append({key: value for key, value in record.items() if value is not None})
    except csv.Error as exc:
        raise CommandError(f"{name} line {reader.line_num}: {exc}") from None
    return records
