"""Qobra's requests: ``POST /tables/{key}/records/bulk`` then ``GET /imports/{import_id}``.

Qobra does not document the bulk body, its answer, or its error format. We send a JSON array of
record objects and read ``{"import_id": ...}`` back; errors are read from ``message``, ``detail``
(a string or a FastAPI-style list), ``error``, or ``title`` / ``description``, else the text.
The bulk POST has no idempotency support, so the transport never resends it blindly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import importbridge
from importbridge import (
    ConfigurationError,
    ImportJob,
    JobState,
    Provider,
    ProviderError,
    TransportError,
    WaitError,
)
from importbridge.flows import Emit, Flow, FlowContext, Request

OPTIONS = frozenset({"table", "replace_all", "debounce", "request_id"})
MESSAGE_KEYS = ("message", "detail", "error", "description", "title")


def error_message(status: int, body: Any) -> tuple[str, str | None]:
    """The first readable explanation in an (undocumented) error body."""
    if isinstance(body, Mapping):
        for key in MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, list) and value:  # FastAPI: [{"loc": [...], "msg": ...}]
                value = "; ".join(
                    str(item.get("msg", item)) if isinstance(item, Mapping) else str(item) for item in value
                )
            if value and isinstance(value, (str, list)):
                code = body.get("code") or (body.get("title") if key != "title" else None)
                return (str(value), str(code) if code else None)
    text = str(body or "").strip()
    return (text[:200] or f"HTTP {status}", None)


def submit_flow(
    provider: Provider, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
) -> Flow[ImportJob]:
    """Ingest ``records`` into data table ``table``; returns the import's first snapshot.

    After the POST answers with an ``import_id`` the import exists, so a failing follow-up GET
    does not raise: a pending job carrying the id is returned instead (poll it later).
    """
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"qobra: unknown submit option(s) {', '.join(unknown)}; known: {', '.join(sorted(OPTIONS))}"
        )
    table = options.get("table")
    if not isinstance(table, str) or not table:
        raise ConfigurationError("qobra: submit needs option table=<data table API key>")
    params = {"all": "true" if options.get("replace_all") else "false"}
    debounce = options.get("debounce")
    if debounce is not None:
        if (
            isinstance(debounce, bool)
            or not isinstance(debounce, (int, float))
            or not (math.isfinite(debounce) and debounce >= 0)
        ):
            raise ConfigurationError(f"qobra: debounce must be a number of seconds >= 0, got {debounce!r}")
        params["debounce"] = f"{debounce:g}"
    response = yield Request(
        "POST",
        f"/tables/{quote(table, safe='')}/records/bulk",
        params=params,
        json=[dict(row) for row in records],
        idempotent=False,
    )
    payload = response.data
    import_id = payload.get("import_id") if isinstance(payload, Mapping) else None
    if not isinstance(import_id, str) or not import_id:
        raise importbridge.PayloadError("qobra", "import_id", f"expected an import id, got {payload!r:.100}")
    try:
        return (yield from get_flow(provider, ctx, import_id, {}))
    except (TransportError, ProviderError):
        return ImportJob(provider="qobra", id=import_id, state=JobState.PENDING, provider_state="scheduled")


def get_flow(
    provider: Provider, ctx: FlowContext, job_id: str, context: Mapping[str, str]
) -> Flow[ImportJob]:
    """The import's snapshot (``{"data_import": ...}``)."""
    response = yield Request("GET", f"/imports/{quote(job_id, safe='')}")
    return provider.normalize(response.data)


def failed_rows_flow(provider: Provider, ctx: FlowContext, job: ImportJob) -> Flow[None]:
    """Rejected rows: each table's ``parsing_error_details`` line, from the finished import."""
    if not job.done and job.id is not None:
        job = yield from get_flow(provider, ctx, job.id, {})
    if not job.done:
        raise WaitError(f"qobra import {job.id} is still {job.state}; its errors are known once it finishes")
    yield Emit(list(job.failed_rows()))
