"""Two engines, one suite: a flow-based provider and an adapter running its flows on either engine.

``Engine("sync")`` drives a flow over ``importbridge.Transport`` (requests) with the small sync
driver below; ``Engine("async")`` over ``importbridge.aioengine.AsyncTransport`` (aiohttp) on
a fresh event loop. Each test of ``tests/engines`` runs once per engine and asserts the same.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

import importbridge
from importbridge import Capability, ImportJob, JobError, JobState, RowOutcome, RowResult, Setting
from importbridge.flows import Emit, Flow, FlowContext, Read, Request, Response
from importbridge.settings import resolve

ENGINES = ("sync", "async")


def require_aiohttp() -> None:
    """Skip where the ``async`` extra is missing, except in CI (``IMPORTBRIDGE_REQUIRE_EXTRAS``)."""
    if os.environ.get("IMPORTBRIDGE_REQUIRE_EXTRAS"):
        import aiohttp  # noqa: F401  (CI installs the extra: a missing one is a failure)
    else:
        pytest.importorskip("aiohttp")


class FlowEcho(importbridge.Provider):
    """A provider written with flows: jobs ``{"id", "status"}`` at ``/jobs/{id}``; failed rows
    streamed as JSON lines from ``/jobs/{id}/failures``."""

    name = "flowecho"
    capabilities = frozenset({Capability.NORMALIZE, Capability.CLIENT})
    settings = (
        Setting(name="api_key", env="FLOWECHO_API_KEY", secret=True),
        Setting(name="base_url", env="FLOWECHO_BASE_URL", default="https://flowecho.invalid"),
    )
    status_words: ClassVar[Mapping[str, JobState]] = {
        "done": JobState.COMPLETE,
        "queued": JobState.PENDING,
        "running": JobState.RUNNING,
    }

    def normalize(self, payload: Any) -> ImportJob:
        return ImportJob(
            provider=self.name,
            id=str(payload["id"]),
            state=self.status_words[payload["status"]],
            provider_state=payload["status"],
        )

    def auth_headers(self, settings: Mapping[str, str]) -> dict[str, str]:
        return {"x-echo-key": settings["api_key"]}

    def submit_flow(
        self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> Flow[ImportJob]:
        key = options.get("request_id")
        response = yield Request(
            "POST",
            "/jobs",
            json={"rows": list(records)},
            headers={"Idempotency-Key": key} if key else {},
            idempotent=bool(key),
        )
        return self.normalize(response.data)

    def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
        response = yield Request("GET", f"/jobs/{job_id}")
        return self.normalize(response.data)

    def failed_rows_flow(self, ctx: FlowContext, job: ImportJob) -> Flow[None]:
        yield Request("GET", f"/jobs/{job.id}/failures", stream=True)
        pending = b""
        while True:
            chunk = yield Read(7)  # tiny reads: lines arrive split across chunks
            pending += chunk
            *lines, pending = pending.split(b"\n")
            rows = [
                RowResult(row=int(line), outcome=RowOutcome.FAILED, error=JobError(code="bad", message="bad"))
                for line in lines
                if line
            ]
            if rows:
                yield Emit(rows)
            if not chunk:
                return None


def run_sync(transport: importbridge.Transport, flow: Flow[Any]) -> Generator[Any, None, Any]:
    """A minimal sync driver (the flows branch's ``importbridge.syncengine.drive`` replaces it)."""
    reply: Any = None
    error: BaseException | None = None
    body: Iterator[bytes] | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(reply)
        except StopIteration as stop:
            return stop.value
        error, reply = None, None
        if isinstance(step, Emit):
            yield from step.items
        elif isinstance(step, Read):
            assert body is not None
            reply = next(body, b"")
        else:
            try:
                if step.stream:
                    answer = transport.request(step.method, step.path, params=step.params, stream=True)
                    body = answer.iter_content(7)
                    reply = Response(answer.status_code, dict(answer.headers))
                else:
                    answer, data = transport.request_json(
                        step.method, step.path, params=step.params, json=step.json, data=step.content,
                        headers=step.headers, idempotent=step.idempotent,
                    )  # fmt: skip
                    reply = Response(answer.status_code, dict(answer.headers), data)
            except importbridge.ImportBridgeError as exc:
                error = exc


class Engine:
    """Runs ``FlowEcho``'s operations (or any flow) on one engine."""

    def __init__(
        self,
        kind: str,
        settings: Mapping[str, str],
        provider: importbridge.Provider | None = None,
        **transport: Any,
    ) -> None:
        self.kind = kind
        self.provider: Any = provider or FlowEcho()
        self.settings = resolve(self.provider, dict(settings))
        self.transport_options = transport

    def run(self, flow: Flow[Any]) -> Any:
        """The flow's result, or the error it ended with."""
        if self.kind == "sync":
            with importbridge.Transport(self.provider, self.settings, **self.transport_options) as t:
                steps = run_sync(t, flow)
                while True:
                    try:
                        next(steps)
                    except StopIteration as stop:
                        return stop.value
        from importbridge import aioengine

        async def go() -> Any:
            async with aioengine.AsyncTransport(self.provider, self.settings, **self.transport_options) as t:
                return await aioengine.run(t, flow)

        return asyncio.run(go())

    def items(self, flow: Flow[Any]) -> list[Any]:
        """Every item the flow emits."""
        if self.kind == "sync":
            with importbridge.Transport(self.provider, self.settings, **self.transport_options) as t:
                return list(run_sync(t, flow))
        from importbridge import aioengine

        async def go() -> list[Any]:
            async with aioengine.AsyncTransport(self.provider, self.settings, **self.transport_options) as t:
                return [item async for item in aioengine.stream(t, flow)]

        return asyncio.run(go())

    def ctx(self) -> FlowContext:
        return FlowContext(provider=self.provider.name, settings=self.settings)

    def get(self, job_id: str) -> ImportJob:
        return self.run(self.provider.get_flow(self.ctx(), job_id, {}))  # type: ignore[no-any-return]

    def submit(self, rows: Sequence[Mapping[str, Any]], **options: Any) -> ImportJob:
        return self.run(self.provider.submit_flow(self.ctx(), rows, options))  # type: ignore[no-any-return]

    def request(self, request: Request) -> Response:
        def flow() -> Flow[Response]:
            response = yield request
            return response  # type: ignore[no-any-return]

        return self.run(flow())  # type: ignore[no-any-return]
