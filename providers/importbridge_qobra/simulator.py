"""The Qobra simulator, mounted at ``/qobra``; its ``base_url`` setting includes ``/v1``.

Documented behaviour it reproduces: ``POST /v1/tables/{key}/records/bulk?all=&debounce=``
answering an ``import_id``; ``GET /v1/imports/{id}`` answering ``{"data_import": ...}`` with
scheduled / started / finished, percentage progress, one entry per data table and
``ParsingError`` details for a table whose numeric column does not parse; ``X-API-Key`` auth.
Imports submitted with ``debounce`` stack: another debounced submit before launch joins the
same import as another table entry and restarts the debounce delay.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from importbridge.sandbox import (
    HttpError,
    Phase,
    Request,
    Response,
    Router,
    Simulator,
    SimulatorContext,
    Timeline,
    format_time,
)

from .sim_tables import DEFAULT_TABLES, TableSchema, parse_table

__all__ = ["QobraSimulator", "build_simulator"]

_TRUE = {"true": True, "1": True, "false": False, "0": False, "": False}


@attrs.define(kw_only=True)
class TableEntry:
    """One data table's part of an import."""

    key: str
    rows: int
    offset: int  # rows of earlier entries, processed first
    error: dict[str, Any] | None

    def details(self, processed: int, launched: bool, report: bool) -> dict[str, Any]:
        done = max(0, min(self.rows, processed - self.offset))
        finished = launched and processed >= self.offset + self.rows
        if finished:
            status = "finished"
        elif launched and processed >= self.offset:
            status = "started"
        else:
            status = "scheduled"
        progress = 100 if finished else (done * 100 // self.rows if self.rows and report else 0)
        return {
            "type": "api",
            "status": status,
            "data_table_key": self.key,
            "progress": progress,
            "number_of_records": self.rows if finished and self.error is None else None,
            "error": self.error if finished else None,
        }


@attrs.define(kw_only=True)
class QobraImport:
    """One import: one or more table entries processed in order on one timeline."""

    id: str
    timeline: Timeline
    tables: list[TableEntry]
    debounced: bool

    def snapshot(self, now: float, *, report_progress: bool) -> dict[str, Any]:
        timeline = self.timeline
        phase = timeline.phase(now)
        launched = phase is not Phase.PENDING
        finished = phase is Phase.FINISHED
        processed = timeline.processed(now)
        if finished or report_progress:
            tables = [entry.details(processed, launched, True) for entry in self.tables]
        else:
            status = "started" if launched else "scheduled"
            tables = [{**entry.details(0, False, False), "status": status} for entry in self.tables]
        if finished:
            progress = 100
        elif report_progress and timeline.total:
            progress = processed * 100 // timeline.total
        else:
            progress = 0
        return {
            "data_import": {
                "id": self.id,
                "created_at": format_time(timeline.accepted_at),
                "launched_at": format_time(timeline.start_at) if launched else None,
                "finished_at": format_time(timeline.finish_at) if finished else None,
                "status": {Phase.PENDING: "scheduled", Phase.RUNNING: "started"}.get(phase, "finished"),
                "progress": progress,
                "error": any(table["error"] is not None for table in tables),
                "data_tables_details": tables,
            }
        }


class QobraSimulator(Simulator):
    """Qobra's record ingestion and import status over in-memory data tables."""

    base_path = "/v1"

    def __init__(self, context: SimulatorContext) -> None:
        self.api_key = context.secrets.get("api_key") or f"sbx_qobra_{context.new_hex(24)}"
        self.schemas: dict[str, TableSchema] = {schema.key: schema for schema in DEFAULT_TABLES}
        self.tables: dict[str, dict[str, dict[str, Any]]] = collections.defaultdict(dict)
        self.imports: dict[str, QobraImport] = {}
        self.rows_submitted = 0
        self.bulk_requests = 0
        super().__init__(context)

    def define_table(self, key: str, *, numeric: Sequence[str] = ()) -> TableSchema:
        """Create (or redefine) a data table whose ``numeric`` columns must parse as floats."""
        schema = TableSchema(key, tuple(numeric))
        with self.context.lock:
            self.schemas[key] = schema
        return schema

    def routes(self, router: Router) -> None:
        router.add("POST", "/v1/tables/{table_key}/records/bulk", self.bulk)
        router.add("GET", "/v1/imports/{import_id}", self.get_import)

    def authenticate(self, request: Request) -> None:
        key = request.header("x-api-key")
        if not key:
            raise HttpError(401, "Not authenticated: send your API key in the X-API-Key header",
                            kind="unauthenticated")
        if key != self.api_key:
            raise HttpError(403, "Invalid API key", kind="forbidden")

    def error(self, error: HttpError) -> Response:
        return Response.json(error.status, {"detail": error.message}, headers=error.headers)

    # -- POST /v1/tables/{key}/records/bulk ------------------------------------------------------

    def bulk(self, request: Request) -> Response:
        key = request.params["table_key"]
        schema = self.schemas.get(key)
        if schema is None:
            raise HttpError(404, f"Data table {key!r} not found", kind="unknown_table")
        replace_all, debounce = _parse_query(request.query)
        records = _parse_records(request.json())
        error = parse_table(schema, records)
        with self.context.lock:
            self.bulk_requests += 1
            self.rows_submitted += len(records)
            if error is None:
                self._store(key, records, replace_all=replace_all)
            job = self._stack_or_create(key, len(records), error, debounce)
        return Response.json(200, {"import_id": job.id})

    def _store(self, key: str, records: Sequence[Mapping[str, Any]], *, replace_all: bool) -> None:
        table = self.tables[key]
        if replace_all:
            table.clear()
        for record in records:
            record_id = record.get("id")
            table[str(record_id) if record_id is not None else self.context.new_hex(24)] = dict(record)

    def _stack_or_create(self, key: str, rows: int, error: dict[str, Any] | None,
                         debounce: float) -> QobraImport:
        now = self.context.clock.now()
        latest = next(reversed(self.imports.values()), None)
        if debounce > 0 and latest is not None and latest.debounced \
                and latest.timeline.phase(now) is Phase.PENDING:
            offset = latest.timeline.total
            latest.tables.append(TableEntry(key=key, rows=rows, offset=offset, error=error))
            latest.timeline = attrs.evolve(
                latest.timeline,
                total=offset + rows,
                start_at=now + self.context.config.start_delay + debounce,
            )
            return latest
        job = QobraImport(
            id=self.context.new_hex(24),
            timeline=self.context.timeline(rows, delay=debounce),
            tables=[TableEntry(key=key, rows=rows, offset=0, error=error)],
            debounced=debounce > 0,
        )
        self.imports[job.id] = job
        return job

    # -- GET /v1/imports/{id} ----------------------------------------------------------------------

    def get_import(self, request: Request) -> Response:
        job = self.imports.get(request.params["import_id"])
        if job is None:
            raise HttpError(404, f"Import {request.params['import_id']!r} not found", kind="not_found")
        with self.context.lock:
            body = job.snapshot(self.context.clock.now(),
                                report_progress=self.context.config.report_progress)
        return Response.json(200, body)

    def state(self) -> dict[str, Any]:
        with self.context.lock:
            by_table = {key: len(rows) for key, rows in sorted(self.tables.items()) if rows}
            failed = sum(1 for job in self.imports.values() for entry in job.tables if entry.error)
            return {
                **super().state(),
                "imports": len(self.imports),
                "bulk_requests": self.bulk_requests,
                "records": sum(by_table.values()),
                "records_by_table": by_table,
                "rows_submitted": self.rows_submitted,
                "tables_failed": failed,
            }


def _parse_query(query: Mapping[str, str]) -> tuple[bool, float]:
    raw_all = query.get("all", "false").strip().lower()
    if raw_all not in _TRUE:
        raise HttpError(422, f"query parameter 'all' must be true or false, got {raw_all!r}",
                        kind="invalid_query")
    raw_debounce = query.get("debounce", "0").strip() or "0"
    try:
        debounce = float(raw_debounce)
    except ValueError:
        debounce = -1.0
    if not debounce >= 0 or debounce == float("inf"):
        raise HttpError(422, f"query parameter 'debounce' must be a number of seconds >= 0, "
                        f"got {raw_debounce!r}", kind="invalid_query")
    return _TRUE[raw_all], debounce


def _parse_records(payload: Any) -> list[Mapping[str, Any]]:
    if not isinstance(payload, list):
        raise HttpError(422, "body must be a JSON array of record objects", kind="invalid_body")
    for position, record in enumerate(payload):
        if not isinstance(record, dict):
            raise HttpError(422, f"record {position} must be an object", kind="invalid_body")
    return payload


def build_simulator(context: SimulatorContext) -> QobraSimulator:
    """The ``importbridge_register_simulators`` factory."""
    return QobraSimulator(context)
