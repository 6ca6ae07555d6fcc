"""Qobra data tables in the simulator: which tables exist and which columns must be numeric.

Qobra documents the failure (a ``ParsingError`` for a table whose ``amount`` does not parse
as a float, with per-line details) but not the schemas, so the sandbox ships a few default
tables and lets tests declare more with ``QobraSimulator.define_table(key, numeric=(...))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["DEFAULT_TABLES", "TableSchema", "parse_table"]


@attrs.frozen
class TableSchema:
    """A data table: its API key and the columns whose values must parse as numbers."""

    key: str
    numeric: tuple[str, ...] = ()


DEFAULT_TABLES: tuple[TableSchema, ...] = (
    TableSchema("companies"),
    TableSchema("users"),
    TableSchema("opportunities", numeric=("amount",)),
    TableSchema("deals", numeric=("amount",)),
    TableSchema("payments", numeric=("amount",)),
)


def _number_problem(value: Any) -> str | None:
    """Why ``value`` is not a float Qobra would accept (None: it is, or it is empty)."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None
    try:
        float(value)
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if isinstance(value, str) else f"TypeError: unsupported type {type(value).__name__}"


def parse_table(schema: TableSchema, records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The documented table ``error`` object when some numeric column does not parse, else None."""
    details: list[dict[str, Any]] = []
    first: tuple[Any, str] | None = None
    for line_number, record in enumerate(records, start=1):
        for column in schema.numeric:
            problem = _number_problem(record.get(column))
            if problem is None:
                continue
            details.append({"line_number": line_number, "row": dict(record), "details": problem})
            if first is None:
                first = (record.get(column), column)
            break
    if first is None:
        return None
    value, column = first
    return {
        "title": "ParsingError",
        "description": f"Can't parse {value!r} as float for user attribute {column}",
        "parsing_error_details": details,
    }
