"""TalkValue's conversation, as flows: analyze a CSV, import it, fetch the job, stream its export.

``submit_flow`` writes the rows as CSV (spooled) and streams it as a multipart body produced in
blocks (``StreamedBody``: started again from its first byte for a resend), ``POST
/path/import/analyze`` (safe to resend: analysing imports nothing), then ``POST /path/import``
(no idempotency support: never resent blindly), then one ``GET`` for the first snapshot.
Columns map to target fields by name (``COLUMN_FIELDS``); ``column_mappings`` overrides or
extends that (a column mapped to None is left out); any other column is an error, not a guess.
The failed-row export is read in chunks (``Read``) and fed to the sans-I/O ``ExportParser``.
No function here does I/O of its own: the engines carry the flows out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from importbridge import (
    ConfigurationError,
    ImportJob,
    JobState,
    PayloadError,
    Provider,
    ProviderError,
    SubmitOutcomeUnknown,
    TransportError,
    WaitError,
)
from importbridge.flows import Emit, Flow, FlowContext, Read, Request, StreamedBody

from .export import ExportParser
from .fields import TARGET_FIELDS
from .upload import MultipartFile, write_csv

COLUMN_FIELDS: Mapping[str, str] = {
    "email": "EMAIL",
    "first_name": "FIRST_NAME",
    "last_name": "LAST_NAME",
    "name": "NAME",
    "phone": "PHONE",
    "job_title": "JOB_TITLE",
    "company": "COMPANY_NAME",
    "company_name": "COMPANY_NAME",
    "address": "ADDRESS",
    "linkedin": "LINKEDIN_URL",
    "linkedin_url": "LINKEDIN_URL",
    "x_url": "X_URL",
    "joined_at": "JOINED_AT",
}
MODES = ("UPDATE", "SKIP")
EXPORT_ATTEMPTS = 3
#: bytes of the failed export read from the connection at a time (fewer, larger reads cost less)
EXPORT_READ = 256 * 1024
#: bytes of it parsed (and emitted) at a time: measured faster than 64 KiB, whose blocks' objects
#: no longer fit the CPU's cache and outnumber the collector's threshold (benchmarks/client.py)
EXPORT_BLOCK = 32 * 1024
LIST_PAGES, LIST_PAGE_SIZE = 20, 100
#: what a broken-off export raises while the flow reads it: the engine's TransportError, and
#: the parser's errors for a body whose bytes or quoting were damaged on the way
STREAM_ERRORS = (TransportError, csv.Error, UnicodeDecodeError)
OPTIONS = frozenset({"mode", "source_id", "column_mappings", "file_name", "request_id"})


def error_message(status: int, body: Any) -> tuple[str, str | None]:
    """RFC 7807 problem details: ``detail`` (else ``title``) and ``errorCode`` (else ``messageKey``)."""
    if isinstance(body, Mapping):
        message = body.get("detail") or body.get("title") or body.get("message")
        code = body.get("errorCode") or body.get("messageKey")
        return (str(message) if message else f"HTTP {status}", str(code) if code else None)
    text = str(body or "").strip()
    return (text[:200] or f"HTTP {status}", None)


def column_mappings(columns: Sequence[str], overrides: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """``[{csvIndex, targetField}]`` for ``columns``; unknown columns raise, None-mapped ones are left out."""
    bad = {
        column: field
        for column, field in overrides.items()
        if field is not None and field not in TARGET_FIELDS
    }
    if bad:
        raise ConfigurationError(
            f"talkvalue: column_mappings name unknown target fields {bad}; "
            f"known: {', '.join(sorted(TARGET_FIELDS))}"
        )
    mappings: list[dict[str, Any]] = []
    unknown: list[str] = []
    for index, column in enumerate(columns):
        field = overrides[column] if column in overrides else COLUMN_FIELDS.get(column.strip().lower())
        if field is None and column not in overrides:
            unknown.append(column)
        elif field is not None:
            mappings.append({"csvIndex": index, "targetField": field})
    if unknown:
        raise ConfigurationError(
            f"talkvalue: no target field for column(s) {', '.join(map(repr, unknown))}; map them with "
            "column_mappings={'column': 'EMAIL', ...} or leave them out with {'column': None}"
        )
    return mappings


def submit_flow(
    provider: Provider, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
) -> Flow[ImportJob]:
    """Import ``records`` as one CSV file into source ``source_id`` (mode UPDATE or SKIP):
    analyze, import and the first ``GET``, as one flow."""
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"talkvalue: unknown submit option(s) {', '.join(unknown)}; known: {', '.join(sorted(OPTIONS))}"
        )
    mode = str(options.get("mode") or "UPDATE").upper()
    if mode not in MODES:
        raise ConfigurationError(f"talkvalue: mode must be UPDATE or SKIP, got {options.get('mode')!r}")
    source_id = options.get("source_id")
    try:
        source = int(source_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"talkvalue: submit needs option source_id=<integer>, got {source_id!r}"
        ) from None
    if not records:
        raise ConfigurationError("talkvalue: nothing to import: a CSV import needs at least one row")
    columns = list(dict.fromkeys(key for row in records for key in row))
    mappings = column_mappings(columns, options.get("column_mappings") or {})
    file_name = upload_name(options.get("file_name"), options.get("request_id"))
    content, size = write_csv(columns, records)
    upload = MultipartFile("file", file_name, content, size, "text/csv")
    try:
        analysis = (
            yield Request(
                "POST",
                "/path/import/analyze",
                body=StreamedBody(
                    chunks=lambda: _from_start(upload), length=len(upload), content_type=upload.content_type
                ),
                idempotent=True,
            )
        ).data
    finally:
        upload.close()
    file_key = analysis.get("fileKey") if isinstance(analysis, Mapping) else None
    if not file_key:
        raise PayloadError("talkvalue", "fileKey", f"analyze answered no file key: {analysis!r:.100}")
    try:
        started = (
            yield Request(
                "POST",
                "/path/import",
                json={"fileKey": file_key, "sourceId": source, "columnMappings": mappings, "mode": mode},
                idempotent=False,
            )
        ).data
    except SubmitOutcomeUnknown as error:  # say how to find the import: by its file name
        raise SubmitOutcomeUnknown(
            f"{error} (look for an import of file {file_name!r} in GET /path/import)",
            provider=error.provider,
            method=error.method,
            url=error.url,
            request_id=str(options.get("request_id") or file_key),
        ) from None
    job_id = started.get("importJobId") if isinstance(started, Mapping) else None
    if job_id is None or isinstance(job_id, bool):
        raise PayloadError("talkvalue", "importJobId", f"expected a job id, got {started!r:.100}")
    try:
        return (yield from get_flow(provider, ctx, str(job_id), {}))
    except (TransportError, ProviderError):  # the import exists: hand back its id, not an error
        status = str(started.get("status") or "PENDING")
        state = provider.status_words.get(status, JobState.PENDING)
        return ImportJob(
            provider="talkvalue",
            id=str(job_id),
            state=state,
            provider_state=status,
            mode=mode,
            file_name=file_name,
        )


def _from_start(upload: MultipartFile) -> Iterator[bytes]:
    """The multipart body's blocks from its first byte (each attempt sends it whole)."""
    upload.seek(0)
    return iter(upload)


def upload_name(file_name: object, request_id: object) -> str:
    """The uploaded file's name; with a request id it always ends ``-<request id>.csv``, which
    is how ``find_submit`` recognises the import later."""
    stem = str(file_name or "importbridge").removesuffix(".csv")
    return f"{stem}-{request_id}.csv" if request_id else f"{stem}.csv"


def find_submit_flow(provider: Provider, ctx: FlowContext, request_id: str) -> Flow[ImportJob | None]:
    """The import whose file name carries ``request_id`` (see ``upload_name``), or None.

    Pages through ``GET /path/import`` (newest first in practice; every page is read up to
    ``LIST_PAGES`` x ``LIST_PAGE_SIZE`` imports). None means no import was started with that
    file: the doubtful submit never reached the import step.
    """
    suffix = f"-{request_id}.csv"
    for page in range(LIST_PAGES):
        listing = (
            yield Request("GET", "/path/import", params={"pageNumber": page, "pageSize": LIST_PAGE_SIZE})
        ).data
        content = listing.get("content") if isinstance(listing, Mapping) else None
        if not isinstance(content, list):
            raise PayloadError("talkvalue", "content", "the import list has no content array")
        for record in content:
            if isinstance(record, Mapping) and str(record.get("fileName") or "").endswith(suffix):
                return provider.normalize(record)
        if not content or page + 1 >= int(listing.get("totalPages") or 0):
            return None
    raise TransportError(
        f"talkvalue: no import named *{suffix} in the newest {LIST_PAGES * LIST_PAGE_SIZE}; cannot tell",
        provider="talkvalue",
    )


def get_flow(
    provider: Provider, ctx: FlowContext, job_id: str, context: Mapping[str, str]
) -> Flow[ImportJob]:
    """The job record (``GET /path/import/{id}``, not wrapped)."""
    response = yield Request("GET", f"/path/import/{quote(job_id, safe='')}")
    return provider.normalize(response.data)


def failed_rows_flow(provider: Provider, ctx: FlowContext, job: ImportJob) -> Flow[None]:
    """Every rejected row, parsed incrementally from the streamed failed-row CSV export.

    ``failedCount`` is the truth: an export that breaks off (a reset, a truncated body) is
    fetched again and resumed after the rows already emitted. Only records whose line break
    has arrived are rows (``ExportParser``), so a half-sent line is never emitted. An export
    that ends cleanly but short twice alike is taken as the provider's final word.
    """
    job_id = job.id
    if job_id is None:
        return
    if not job.done:
        job = yield from get_flow(provider, ctx, job_id, {})
        if not job.done:
            raise WaitError(
                f"talkvalue job {job.id} is still {job.state}; export its failures once it finishes"
            )
    path = f"/path/import/{quote(job_id, safe='')}/failed/export"
    delivered = 0
    short_counts: list[int] = []
    problem = ""
    for _attempt in range(EXPORT_ATTEMPTS):
        response = yield Request("GET", path, stream=True)
        parser = ExportParser(_charset(response.headers) or "utf-8")
        skip = delivered  # an earlier pass emitted these
        try:
            while chunk := (yield Read(EXPORT_READ)):
                for at in range(0, len(chunk), EXPORT_BLOCK):
                    rows = parser.feed(chunk[at : at + EXPORT_BLOCK])
                    if skip:
                        rows, skip = rows[skip:], max(0, skip - len(rows))
                    if rows:
                        delivered += len(rows)
                        yield Emit(rows)
            rows, whole = parser.close()
        except STREAM_ERRORS as exc:
            problem = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        if skip:
            rows, skip = rows[skip:], max(0, skip - len(rows))
        seen = delivered + len(rows)
        if whole and (job.failed is None or seen >= job.failed or short_counts[-1:] == [seen]):
            if rows:
                yield Emit(rows)
            return
        if whole and rows:  # rows read to a clean end: keep them, the count says more are due
            delivered = seen
            yield Emit(rows)
        short_counts.append(seen if whole else -1)
        problem = f"the export ended after {seen} of {job.failed} rows" + ("" if whole else " mid-line")
    raise TransportError(
        f"talkvalue: the failed-row export of job {job_id} broke off {EXPORT_ATTEMPTS} times ({problem})",
        provider="talkvalue",
        method="GET",
    )


def _charset(headers: Mapping[str, str]) -> str | None:
    """The ``charset`` of a ``Content-Type`` header, if it names one."""
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None
