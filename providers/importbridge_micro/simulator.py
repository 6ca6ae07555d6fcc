"""The Micro (Prism imports) simulator, mounted at ``/micro``; the SDK's ``base_url`` is that URL.

Documented behaviour it reproduces: ``POST /v2/prism/{teamId}/{objectType}/import`` answers
200 with the finished job and inline ``results`` up to ``sync_threshold`` objects, else 202
``processing`` with a ``Location``; ``GET /v2/prism/{teamId}/imports/{jobId}`` (async jobs,
kept 7 days, then 404); ``x-api-key`` (401 none, 403 wrong key or team); ``{"message"}``
errors; a per-key rate limit with ``Retry-After``; ``Idempotency-Key`` replay for 24 h with
``idempotent-replay: true`` and 409 for the same key with another body.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from importbridge.sandbox import (
    HttpError,
    IdempotencyCache,
    Phase,
    RateLimiter,
    Request,
    Response,
    Router,
    Simulator,
    SimulatorContext,
    Timeline,
    fingerprint,
    format_time,
)

from .sim_rules import OBJECT_TYPES, dedupe_value, row_error

__all__ = ["MicroSimulator", "build_simulator"]

JOB_RETENTION = 7 * 24 * 3600.0
IDEMPOTENCY_WINDOW = 24 * 3600.0
# Micro documents 400/401/403/404/429/500 (+409 for idempotency); other statuses fold into these
STATUS_FOLD = {405: 404, 415: 400}


def _time(epoch: float) -> str:
    return format_time(epoch, millis=True)


@attrs.define(kw_only=True)
class MicroJob:
    """One accepted import: its outcomes are decided on arrival and revealed as time passes."""

    job_id: str | None
    timeline: Timeline
    results: list[dict[str, Any]]
    failed_before: list[int]  # failed_before[n] = failed rows among the first n

    def snapshot(self, now: float, *, report_progress: bool) -> dict[str, Any]:
        """The job as GET (or the POST answer) shows it at virtual time ``now``."""
        timeline = self.timeline
        body: dict[str, Any] = {"job_id": self.job_id, "total": timeline.total}
        if timeline.phase(now) is Phase.FINISHED:
            failed = self.failed_before[-1]
            body.update(status="complete", processed=timeline.total,
                        succeeded=timeline.total - failed, failed=failed, results=self.results)
            updated = timeline.finish_at
        else:
            body["status"] = "processing"
            processed = timeline.processed(now)
            if report_progress:
                failed = self.failed_before[processed]
                body.update(processed=processed, succeeded=processed - failed, failed=failed)
            updated = timeline.reached_at(processed) if processed else timeline.accepted_at
        body["created_at"] = _time(timeline.accepted_at)
        body["updated_at"] = _time(updated)
        if self.job_id is not None:
            body["expires_at"] = _time(timeline.accepted_at + JOB_RETENTION)
        return body


class MicroSimulator(Simulator):
    """Micro's import endpoints over an in-memory record store."""

    def __init__(self, context: SimulatorContext) -> None:
        self.team_id = context.new_uuid()
        self.api_key = context.secrets.get("api_key") or f"sbx_micro_{context.new_hex(24)}"
        self.jobs: dict[str, MicroJob] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = collections.defaultdict(dict)
        self.imports = 0
        self.rows_submitted = 0
        self.limiter = RateLimiter(context.clock, lambda: context.config.rate_limit)
        self.idempotency = IdempotencyCache(context.clock, IDEMPOTENCY_WINDOW)
        super().__init__(context)

    @property
    def settings(self) -> dict[str, str]:
        return {**super().settings, "team_id": self.team_id}

    def routes(self, router: Router) -> None:
        router.add("POST", "/v2/prism/{team_id}/{object_type}/import", self.create_import)
        router.add("GET", "/v2/prism/{team_id}/imports/{job_id}", self.get_import)

    # -- the shared request cycle ----------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        key = request.header("x-api-key")
        if not key:
            raise HttpError(401, "Missing API key: send it in the x-api-key header", kind="unauthenticated")
        if key != self.api_key:
            raise HttpError(403, "Invalid API key", kind="forbidden")
        wait = self.limiter.check(key)
        if wait is not None:
            raise HttpError(429, "Rate limit exceeded: too many requests for this API key",
                            kind="rate_limited", headers={"Retry-After": str(int(wait))})

    def error(self, error: HttpError) -> Response:
        status = STATUS_FOLD.get(error.status, error.status)
        body: dict[str, Any] = {"message": error.message}
        if error.code:
            body["code"] = error.code
        return Response.json(status, body, headers=error.headers)

    def _check_team(self, team_id: str) -> None:
        if team_id != self.team_id:
            raise HttpError(403, f"API key does not have access to team {team_id}", kind="forbidden")

    # -- POST /v2/prism/{teamId}/{objectType}/import ----------------------------------------------

    def create_import(self, request: Request) -> Response:
        self._check_team(request.params["team_id"])
        object_type = request.params["object_type"]
        if object_type not in OBJECT_TYPES:
            raise HttpError(404, f"Unknown object type {object_type!r}; expected one of: "
                            + ", ".join(OBJECT_TYPES), kind="unknown_object_type")
        key = request.header("idempotency-key")
        if key is None:
            return self._import(request, object_type)
        if not 1 <= len(key) <= 255:
            raise HttpError(400, "Idempotency-Key must be 1 to 255 characters", kind="invalid_header")
        digest = fingerprint(request.method, request.path, request.body)
        with self.idempotency.lock:
            found = self.idempotency.lookup(self.api_key, key, digest)
            if found.mismatch:
                raise HttpError(409, "idempotency_key_mismatch: this Idempotency-Key was already used "
                                "with a different request", kind="conflict", code="idempotency_key_mismatch")
            if found.replay is not None:
                replay = found.replay
                return Response(status=replay.status, body=replay.body,
                                headers={**replay.headers, "idempotent-replay": "true"})
            response = self._import(request, object_type)
            if 200 <= response.status < 300:
                self.idempotency.remember(self.api_key, key, digest, response)
            return response

    def _import(self, request: Request, object_type: str) -> Response:
        objects, options = _parse_body(request.json())
        config = self.context.config
        is_async = len(objects) > config.sync_threshold
        with self.context.lock:
            results = self._apply(object_type, objects, options)
            failed_before = list(itertools.accumulate((1 if "error" in r else 0 for r in results), initial=0))
            job_id = self.context.new_uuid() if is_async else None
            if is_async:
                timeline = self.context.timeline(len(objects))
            else:
                now = self.context.clock.now()
                timeline = Timeline(accepted_at=now, start_at=now, total=len(objects), speed=config.speed)
            job = MicroJob(job_id=job_id, timeline=timeline, results=results, failed_before=failed_before)
            self.imports += 1
            self.rows_submitted += len(objects)
            if job_id is not None:
                self.jobs[job_id] = job
        now = self.context.clock.now()
        if job_id is None:
            return Response.json(200, job.snapshot(timeline.finish_at, report_progress=True))
        location = f"{self.context.base_url}/v2/prism/{self.team_id}/imports/{job_id}"
        body = job.snapshot(now, report_progress=config.report_progress)
        return Response.json(202, body, headers={"Location": location})

    def _apply(self, object_type: str, objects: Sequence[Mapping[str, Any]],
               options: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Validate and store each row in order; dedupe against stored records (and earlier rows)."""
        store = self.records[object_type]
        slug = options.get("dedupe_by")
        folded = bool(options.get("caseInsensitive", False))
        index: dict[str, str] = {}
        if slug:
            for record_id, stored in store.items():
                value = dedupe_value(stored.get(slug), case_insensitive=folded)
                if value is not None:
                    index.setdefault(value, record_id)
        results: list[dict[str, Any]] = []
        for item in objects:
            properties = dict(item.get("default") or {})
            problem = row_error(properties)
            if problem is not None:
                results.append({"id": None, "created": False, "existing": False, "error": problem})
                continue
            match = dedupe_value(properties.get(slug), case_insensitive=folded) if slug else None
            existing_id = index.get(match) if match is not None else None
            if existing_id is not None:
                store[existing_id].update(properties)
                results.append({"id": existing_id, "created": False, "existing": True})
                continue
            record_id = self.context.new_uuid()
            store[record_id] = properties
            if match is not None:
                index[match] = record_id
            results.append({"id": record_id, "created": True, "existing": False})
        return results

    # -- GET /v2/prism/{teamId}/imports/{jobId} ----------------------------------------------------

    def get_import(self, request: Request) -> Response:
        self._check_team(request.params["team_id"])
        now = self.context.clock.now()
        job = self.jobs.get(request.params["job_id"])
        if job is None or now - job.timeline.accepted_at >= JOB_RETENTION:
            raise HttpError(404, "Import job not found", kind="not_found")
        return Response.json(200, job.snapshot(now, report_progress=self.context.config.report_progress))

    # -- introspection -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        with self.context.lock:
            records_by_type = {kind: len(rows) for kind, rows in sorted(self.records.items()) if rows}
            counts = {
                "imports": self.imports,
                "async_jobs": len(self.jobs),
                "records": sum(records_by_type.values()),
                "records_by_type": records_by_type,
                "rows_submitted": self.rows_submitted,
            }
        return {
            **super().state(),
            **counts,
            "rate_limited": self.limiter.rejected,
            "idempotency_keys": self.idempotency.stats(),
        }


def _parse_body(payload: Any) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
    """``objects`` and ``options`` from the request body; 400 naming the first problem."""
    if not isinstance(payload, dict):
        raise HttpError(400, "body must be a JSON object with an 'objects' array", kind="invalid_body")
    objects = payload.get("objects")
    if not isinstance(objects, list):
        raise HttpError(400, "'objects' is required and must be an array", kind="invalid_body")
    for position, item in enumerate(objects):
        if not isinstance(item, dict):
            raise HttpError(400, f"objects[{position}] must be an object", kind="invalid_body")
        if not isinstance(item.get("default", {}), (dict, type(None))):
            raise HttpError(400, f"objects[{position}].default must be an object", kind="invalid_body")
    options = payload.get("options") or {}
    if not isinstance(options, dict):
        raise HttpError(400, "'options' must be an object", kind="invalid_body")
    for name, kind in (("dedupe_by", str), ("caseInsensitive", bool), ("list_id", str)):
        if options.get(name) is not None and not isinstance(options[name], kind):
            raise HttpError(400, f"options.{name} must be a {kind.__name__}", kind="invalid_body")
    return objects, options


def build_simulator(context: SimulatorContext) -> MicroSimulator:
    """The ``importbridge_register_simulators`` factory."""
    return MicroSimulator(context)

