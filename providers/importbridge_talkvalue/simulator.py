"""The TalkValue simulator, mounted at ``/talkvalue`` (the ``base_url`` / ``TALKVALUE_API_URL``).

Documented behaviour it reproduces: ``POST /path/import/analyze`` (multipart CSV),
``POST /path/import`` (fileKey, sourceId, columnMappings, mode), ``GET /path/import/{id}``
(the job record itself, not wrapped; ``failedRows`` a sample of at most 10),
``GET /path/import?pageNumber=&pageSize=``, ``GET /path/import/{id}/failed/export`` (CSV of
every rejected row), Bearer auth, RFC 7807 problem-detail errors.
"""

from __future__ import annotations

import csv
import http
import io
import itertools
import math
from collections.abc import Mapping
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

from .fields import TARGET_FIELDS
from .sim_rules import OUTCOMES, ParsedFile, RowOutcome, decide, parse_csv, suggest_field

__all__ = ["TalkValueSimulator", "build_simulator"]

FAILED_SAMPLE = 10
PREVIEW_ROWS = 5
MODES = ("UPDATE", "SKIP")
EXPORT_HEADER = ("rowNum", "errorCode", "errorMessage", "rawValue")
# HttpError kind -> (errorCode, messageKey); others derive both from the kind
PROBLEMS: dict[str, tuple[str, str]] = {
    "unauthenticated": ("UNAUTHORIZED", "error.unauthorized"),
    "not_found": ("NOT_FOUND", "error.notFound"),
    "no_route": ("NOT_FOUND", "error.notFound"),
    "malformed_json": ("INVALID_REQUEST_BODY", "error.invalidRequestBody"),
    "malformed_multipart": ("INVALID_FILE", "error.invalidFile"),
    "invalid_file": ("INVALID_FILE", "error.invalidFile"),
    "invalid_body": ("VALIDATION_FAILED", "error.validationFailed"),
    "unknown_file": ("FILE_NOT_FOUND", "error.fileNotFound"),
    "payload_too_large": ("PAYLOAD_TOO_LARGE", "error.payloadTooLarge"),
    "fault_429": ("TOO_MANY_REQUESTS", "error.tooManyRequests"),
    "internal": ("INTERNAL_SERVER_ERROR", "error.internal"),
}


@attrs.define(kw_only=True)
class TalkValueJob:
    """One import job: outcomes decided on arrival, revealed row by row on its timeline."""

    id: int
    mode: str
    file: ParsedFile
    timeline: Timeline
    outcomes: list[RowOutcome]
    prefix: dict[str, list[int]]  # count field -> running totals over the first n rows

    def counts(self, processed: int) -> dict[str, int]:
        return {field: totals[processed] for field, totals in self.prefix.items()}

    def failures(self, processed: int) -> list[RowOutcome]:
        return [row for row in self.outcomes[:processed] if row.outcome == "failed"]

    def record(self, now: float, *, report_progress: bool) -> dict[str, Any]:
        """The job as ``GET /path/import/{id}`` returns it at virtual time ``now``."""
        phase = self.timeline.phase(now)
        finished = phase is Phase.FINISHED
        processed = self.timeline.processed(now) if (finished or report_progress) else 0
        counts = self.counts(processed)
        if finished:
            failed, total = counts["failedCount"], self.timeline.total
            status = "COMPLETED" if failed == 0 else "FAILED" if failed == total else "PARTIAL_SUCCESS"
        else:
            status = "RUNNING" if phase is Phase.RUNNING else "PENDING"
        sample = [_failed_row(row) for row in itertools.islice(
            (row for row in self.outcomes[:processed] if row.outcome == "failed"), FAILED_SAMPLE)]
        started = self.timeline.started_at(now)
        return {
            "id": self.id,
            "status": status,
            "mode": self.mode,
            "fileName": self.file.file_name,
            "totalRows": self.timeline.total,
            "processedRows": processed,
            **counts,
            "failedRows": sample,
            "processStartedAt": format_time(started) if started is not None else None,
            "completedAt": format_time(self.timeline.finish_at) if finished else None,
        }


def _failed_row(row: RowOutcome) -> dict[str, Any]:
    return {"rowNum": row.row_num, "errorCode": row.error_code, "errorMessage": row.error_message,
            "rawValue": row.raw_value}


class TalkValueSimulator(Simulator):
    """TalkValue's path-import endpoints over an in-memory contact store."""

    def __init__(self, context: SimulatorContext) -> None:
        self.token = context.secrets.get("token") or f"sbx_talkvalue_{context.new_hex(24)}"
        self.files: dict[str, ParsedFile] = {}
        self.jobs: dict[int, TalkValueJob] = {}
        self.contacts: dict[str, dict[str, str]] = {}
        self.rows_submitted = 0
        super().__init__(context)

    def routes(self, router: Router) -> None:
        router.add("POST", "/path/import/analyze", self.analyze)
        router.add("POST", "/path/import", self.create_import)
        router.add("GET", "/path/import", self.list_imports)
        router.add("GET", "/path/import/{job_id}/failed/export", self.failed_export)
        router.add("GET", "/path/import/{job_id}", self.get_import)

    def authenticate(self, request: Request) -> None:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            raise HttpError(401, "Full authentication is required: send a valid Bearer token",
                            kind="unauthenticated")

    def error(self, error: HttpError) -> Response:
        code, key = PROBLEMS.get(error.kind) or _derived_problem(error.kind or str(error.status))
        try:
            title = http.HTTPStatus(error.status).phrase
        except ValueError:
            title = "Error"
        problem = {"type": "about:blank", "title": title, "status": error.status, "detail": error.message,
                   "errorCode": error.code or code, "messageKey": key}
        return Response.json(error.status, problem, headers=error.headers,
                             content_type="application/problem+json")

    # -- POST /path/import/analyze ------------------------------------------------------------------

    def analyze(self, request: Request) -> Response:
        upload = request.multipart().get("file")
        if upload is None:
            raise HttpError(400, "the multipart form needs a 'file' part", kind="invalid_file")
        try:
            parsed = parse_csv(upload.content, upload.filename or "upload.csv")
        except ValueError as exc:
            raise HttpError(400, str(exc), kind="invalid_file") from None
        file_key = self.context.new_uuid()
        with self.context.lock:
            self.files[file_key] = parsed
        suggestions = [suggest_field(header) for header in parsed.headers]
        return Response.json(200, {
            "fileKey": file_key,
            "totalRows": len(parsed.rows),
            "headers": list(parsed.headers),
            "preview": [list(row) for row in parsed.rows[:PREVIEW_ROWS]],
            "columnMappings": [
                {"csvIndex": index, "csvHeader": header, "suggestedField": suggestion}
                for index, (header, suggestion) in enumerate(zip(parsed.headers, suggestions, strict=True))
            ],
            "missingRequired": [field for field in ("EMAIL",) if field not in suggestions],
        })

    # -- POST /path/import -------------------------------------------------------------------------

    def create_import(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object", kind="invalid_body")
        file_key = body.get("fileKey")
        parsed = self.files.get(file_key) if isinstance(file_key, str) else None
        if parsed is None:
            raise HttpError(404, f"no analyzed file has fileKey {file_key!r}", kind="unknown_file")
        source = body.get("sourceId")
        if isinstance(source, bool) or not isinstance(source, int):
            raise HttpError(400, "sourceId is required and must be an integer", kind="invalid_body")
        mode = body.get("mode", "UPDATE")
        if mode not in MODES:
            raise HttpError(400, f"mode must be one of {', '.join(MODES)}, got {mode!r}", kind="invalid_body")
        mapping = _mapping(body.get("columnMappings"), len(parsed.headers))
        with self.context.lock:
            outcomes = decide(parsed, mapping, mode, self.contacts)
            prefix = {
                field: list(itertools.accumulate((row.outcome == name for row in outcomes), initial=0))
                for name, field in OUTCOMES.items()
            }
            job = TalkValueJob(id=len(self.jobs) + 1, mode=mode, file=parsed,
                               timeline=self.context.timeline(len(outcomes)), outcomes=outcomes,
                               prefix={field: [int(n) for n in totals] for field, totals in prefix.items()})
            self.jobs[job.id] = job
            self.rows_submitted += len(outcomes)
        return Response.json(200, {"importJobId": job.id, "status": "PENDING"})

    # -- GET /path/import/{id}, its failed export, and the list ---------------------------------------

    def _job(self, request: Request) -> TalkValueJob:
        raw = request.params["job_id"]
        job = self.jobs.get(int(raw)) if raw.isdigit() else None
        if job is None:
            raise HttpError(404, f"import job {raw} not found", kind="not_found")
        return job

    def get_import(self, request: Request) -> Response:
        job = self._job(request)
        return Response.json(200, job.record(self.context.clock.now(),
                                             report_progress=self.context.config.report_progress))

    def failed_export(self, request: Request) -> Response:
        job = self._job(request)
        processed = job.timeline.processed(self.context.clock.now())
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADER + job.file.headers)
        for row in job.failures(processed):
            values = job.file.rows[row.row_num - 1]
            writer.writerow((row.row_num, row.error_code, row.error_message, row.raw_value, *values))
        return Response.text(200, out.getvalue(), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="import-{job.id}-failed.csv"'})

    def list_imports(self, request: Request) -> Response:
        number = _query_int(request.query, "pageNumber", 0, minimum=0)
        size = _query_int(request.query, "pageSize", 20, minimum=1)
        now = self.context.clock.now()
        report = self.context.config.report_progress
        with self.context.lock:
            newest_first = sorted(self.jobs.values(), key=lambda job: job.id, reverse=True)
        page = newest_first[number * size:(number + 1) * size]
        return Response.json(200, {
            "content": [job.record(now, report_progress=report) for job in page],
            "totalElements": len(newest_first),
            "totalPages": math.ceil(len(newest_first) / size),
            "pageNumber": number,
            "pageSize": size,
        })

    def state(self) -> dict[str, Any]:
        with self.context.lock:
            return {
                **super().state(),
                "imports": len(self.jobs),
                "records": len(self.contacts),
                "files_analyzed": len(self.files),
                "rows_submitted": self.rows_submitted,
            }


def _derived_problem(kind: str) -> tuple[str, str]:
    words = kind.strip("_").split("_")
    return ("_".join(words).upper(), "error." + words[0] + "".join(w.title() for w in words[1:]))


def _mapping(raw: Any, columns: int) -> dict[str, int]:
    """``targetField -> csvIndex`` from ``columnMappings``; 400 naming the first problem."""
    if not isinstance(raw, list):
        raise HttpError(400, "columnMappings is required and must be an array", kind="invalid_body")
    mapping: dict[str, int] = {}
    for position, entry in enumerate(raw):
        where = f"columnMappings[{position}]"
        if not isinstance(entry, dict):
            raise HttpError(400, f"{where} must be an object", kind="invalid_body")
        index, field = entry.get("csvIndex"), entry.get("targetField")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < columns:
            raise HttpError(400, f"{where}.csvIndex must be a column index from 0 to {columns - 1}",
                            kind="invalid_body")
        if field not in TARGET_FIELDS:
            raise HttpError(400, f"{where}.targetField must be one of {', '.join(TARGET_FIELDS)}",
                            kind="invalid_body")
        if field in mapping:
            raise HttpError(400, f"{where}.targetField {field} is mapped twice", kind="invalid_body")
        mapping[field] = index
    if "EMAIL" not in mapping:
        raise HttpError(400, "columnMappings must map a column to EMAIL", kind="invalid_body",
                        code="MISSING_REQUIRED_FIELD")
    return mapping


def _query_int(query: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise HttpError(400, f"{name} must be an integer >= {minimum}, got {raw!r}", kind="invalid_query")
    return int(raw)


def build_simulator(context: SimulatorContext) -> TalkValueSimulator:
    """The ``importbridge_register_simulators`` factory."""
    return TalkValueSimulator(context)
