"""Micro's requests: ``POST /v2/prism/{teamId}/{objectType}/import`` and ``GET .../imports/{jobId}``.

Every import carries an ``Idempotency-Key`` (the caller's, else the ``request_id`` that
``submit_many`` journals, else a fresh UUID): Micro replays the first answer for 24 hours, so the
transport may resend the POST after any failure without importing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from importbridge import ConfigurationError, ImportJob, Provider, WaitError
from importbridge.flows import Emit, Flow, FlowContext, Request

OBJECT_TYPES = ("contact", "organization", "identity", "deal", "action", "document", "engagement")
#: submit option -> the key it takes in the body's ``options`` object
BODY_OPTIONS = {"dedupe_by": "dedupe_by", "case_insensitive": "caseInsensitive", "list_id": "list_id"}
OPTIONS = frozenset({"object_type", "idempotency_key", "request_id", *BODY_OPTIONS})
MAX_KEY = 255


def error_message(status: int, body: Any) -> tuple[str, str | None]:
    """Micro errors are ``{"message": ...}`` (a ``code`` is taken too when one is sent)."""
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error")
        code = body.get("code")
        return (str(message) if message else f"HTTP {status}", str(code) if code else None)
    text = str(body or "").strip()
    return (text[:200] or f"HTTP {status}", None)


def submit_flow(
    provider: Provider, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
) -> Flow[ImportJob]:
    """One import of ``records``: each row becomes an object's ``default`` properties."""
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"micro: unknown submit option(s) {', '.join(unknown)}; known: {', '.join(sorted(OPTIONS))}"
        )
    object_type = options.get("object_type") or "organization"
    if object_type not in OBJECT_TYPES:
        raise ConfigurationError(
            f"micro: object_type {object_type!r} is not one of {', '.join(OBJECT_TYPES)}"
        )
    key = str(options.get("idempotency_key") or options.get("request_id") or uuid.uuid4())
    if not 1 <= len(key) <= MAX_KEY:
        raise ConfigurationError(f"micro: idempotency_key must be 1 to {MAX_KEY} characters long")
    body: dict[str, Any] = {"objects": [{"default": dict(row)} for row in records]}
    body_options = {
        name: options[option] for option, name in BODY_OPTIONS.items() if options.get(option) is not None
    }
    if body_options:
        body["options"] = body_options
    response = yield Request(
        "POST",
        f"/v2/prism/{_team(ctx, {})}/{object_type}/import",
        json=body,
        headers={"Idempotency-Key": key},
        idempotent=True,
    )
    return provider.normalize(response.data)


def get_flow(
    provider: Provider, ctx: FlowContext, job_id: str, context: Mapping[str, str]
) -> Flow[ImportJob]:
    """The async job's snapshot (sync imports have no id and cannot be fetched)."""
    response = yield Request("GET", f"/v2/prism/{_team(ctx, context)}/imports/{quote(job_id, safe='')}")
    return provider.normalize(response.data)


def failed_rows_flow(provider: Provider, ctx: FlowContext, job: ImportJob) -> Flow[None]:
    """Rejected rows from ``results``: inline for sync imports, on the finished async job."""
    if not job.rows_complete:
        if job.id is None:
            return
        job = yield from get_flow(provider, ctx, job.id, {})
    if not job.done:
        raise WaitError(f"micro job {job.id} is still {job.state}; Micro lists row results once it finishes")
    yield Emit(list(job.failed_rows()))


def _team(ctx: FlowContext, context: Mapping[str, str]) -> str:
    team = context.get("team_id") or ctx.settings.get("team_id")
    if not team:
        raise ConfigurationError("micro: missing setting 'team_id': set MICRO_TEAM_ID")
    return quote(team, safe="")
