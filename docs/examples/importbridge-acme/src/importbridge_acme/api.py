"""Acme's HTTP conversation, as flows: no I/O here, the engines carry them out.

- submit: ``POST /v2/loads`` with ``{"records": [...]}``; the answer is the load's status. The
  ``request_id`` option (``submit_many`` passes one per batch) goes out as the
  ``Idempotency-Key`` header, so Acme answers a resend with the first load instead of a second.
- get: ``GET /v2/loads/{load_id}``.
- failed rows: the status carries the rejections only when there are few; otherwise they are
  read page by page from ``GET /v2/loads/{load_id}/rejections?page=N`` until ``next_page`` is null.
- find a submit: ``GET /v2/loads?request_id=...`` lists the loads made with that key.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from importbridge import ConfigurationError, ImportJob, PayloadReader, Provider, WaitError
from importbridge.flows import Emit, Flow, FlowContext, Request

from . import normalize as _normalize

OPTIONS = frozenset({"request_id", "object_type", "list"})
OBJECT_TYPES = ("contact", "company")


def auth_headers(settings: Mapping[str, str]) -> dict[str, str]:
    """Acme takes a bearer token."""
    return {"Authorization": f"Bearer {settings['api_key']}"}


def error_message(status: int, body: Any) -> tuple[str, str | None]:
    """Acme's errors are ``{"error": {"code": ..., "message": ...}}``."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        message, code = error.get("message"), error.get("code")
        return (str(message or f"HTTP {status}"), str(code) if code else None)
    return (str(body or "").strip()[:200] or f"HTTP {status}", None)


def submit_flow(
    provider: Provider, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
) -> Flow[ImportJob]:
    """One load of ``records``; its first status."""
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise ConfigurationError(f"acme: unknown submit option(s) {', '.join(unknown)}")
    object_type = options.get("object_type") or "contact"
    if object_type not in OBJECT_TYPES:
        raise ConfigurationError(f"acme: object_type must be one of {', '.join(OBJECT_TYPES)}")
    body: dict[str, Any] = {"object": object_type, "records": [dict(row) for row in records]}
    if options.get("list"):
        body["list"] = str(options["list"])
    key = str(options.get("request_id") or uuid.uuid4())
    response = yield Request(
        "POST", "/v2/loads", json=body, headers={"Idempotency-Key": key}, idempotent=True
    )
    return provider.normalize(response.data)


def get_flow(
    provider: Provider, ctx: FlowContext, job_id: str, context: Mapping[str, str]
) -> Flow[ImportJob]:
    """The load's current status."""
    response = yield Request("GET", f"/v2/loads/{quote(job_id, safe='')}")
    return provider.normalize(response.data)


def failed_rows_flow(provider: Provider, ctx: FlowContext, job: ImportJob) -> Flow[None]:
    """Every rejected row, numbered from 1 as Acme counts lines; a page at a time."""
    if job.rows_complete:
        yield Emit(list(job.failed_rows()))
        return
    if job.id is None:
        return
    if not job.done:
        job = yield from get_flow(provider, ctx, job.id, {})
        if not job.done:
            raise WaitError(f"acme load {job.id} is still {job.state}; its rejections are known once it ends")
    page: object = 1
    while page is not None:
        response = yield Request(
            "GET", f"/v2/loads/{quote(str(job.id), safe='')}/rejections", params={"page": page}
        )
        reader = PayloadReader("acme", response.data)
        yield Emit([_normalize._rejection(entry) for entry in reader.items("rejections")])
        page = reader.count("next_page")


def find_submit_flow(provider: Provider, ctx: FlowContext, request_id: str) -> Flow[ImportJob | None]:
    """The load made with ``request_id`` as its idempotency key, or None if there is none."""
    response = yield Request("GET", "/v2/loads", params={"request_id": request_id})
    loads = PayloadReader("acme", response.data).items("loads")
    return provider.normalize({"load": loads[0].data}) if loads else None
