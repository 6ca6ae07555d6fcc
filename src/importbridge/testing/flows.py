"""Conformance for a provider's flows: scripted answers (no network) and its own simulator.

A flow is a generator of plain data, so most of it is tested without a server: ``play`` drives
a flow against scripted ``Answer``s, exactly as an engine would (errors thrown into the flow,
streamed bodies served in chunks of any size, emitted items collected). Subclass
``FlowConformance`` and name the provider::

    from importbridge.testing import FlowConformance
    from importbridge_acme import AcmeProvider

    class TestAcmeFlows(FlowConformance):
        provider = AcmeProvider()
        records = [{"email": "a@example.com"}, {"email": "not an address"}]
        bad_rows = frozenset({2})          # rows the simulator rejects, numbered from 1
        submit_options = {"list": "main"}

Without a network it checks that ``get_flow`` reads every sample payload and lets each
error status through as the engines map it (401/403 ``AuthenticationError``, 404
``JobNotFound``, 409 ``ConflictError``, 429 ``RateLimited``), that ``failed_rows_flow`` of an
unfinished job looks again and raises ``WaitError``, and that the provider's code imports no
HTTP library. With a simulator (``Capability.SANDBOX`` and ``records``) it submits, waits,
reads every failed row (each page or chunk to the end: as many rows as the job's ``failed``
count, numbered ``bad_rows``), then replays the recorded conversation with every streamed
body cut into chunks of every size from 1 byte up, and checks that the rows are the same.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import attrs
import pytest

import importbridge
from importbridge import (
    AuthenticationError,
    Capability,
    ConflictError,
    ImportJob,
    JobNotFound,
    Provider,
    ProviderError,
    RateLimited,
    WaitError,
)
from importbridge.flows import Emit, Flow, FlowContext, Read, Request, Response, has_flows

__all__ = ["Answer", "FlowConformance", "Played", "play", "record"]

T = TypeVar("T")

#: the error each status becomes in both engines (when the request is not resent first)
STATUS_ERRORS: Mapping[int, type[ProviderError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: JobNotFound,
    409: ConflictError,
    429: RateLimited,
}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: modules a provider's code must not import: a flow does no I/O, the engines do
IO_MODULES = frozenset({"requests", "urllib3", "httpx", "aiohttp", "socket", "http.client", "urllib.request"})


@attrs.frozen(kw_only=True)
class Answer:
    """One scripted answer to a flow's ``Request``: a status (an error status is raised into
    the flow as the engines map it), headers, decoded JSON ``data``, or a streamed ``body``
    served to ``Read``s (``broken``: a ``TransportError`` instead of its end); or an ``error``
    raised into the flow as is (a ``TransportError``)."""

    status: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict)
    data: Any = None
    body: bytes | None = None
    broken: bool = False
    error: BaseException | None = None


@attrs.frozen(kw_only=True)
class Played:
    """What a played flow did: its result, the items it emitted, the requests it made."""

    result: Any
    emitted: list[Any]
    requests: list[Request]


def status_error(provider: Provider, request: Request, answer: Answer) -> ProviderError:
    """The error the engines raise for ``answer``'s error status (a 404 on a submit is no
    missing job: a plain ``ProviderError``)."""
    try:
        message, code = provider.error_message(answer.status, answer.data)
    except Exception:  # the engines do not let a plugin's parser hide the status either
        message, code = f"HTTP {answer.status}", None
    cls = STATUS_ERRORS.get(answer.status, ProviderError)
    if cls is JobNotFound and request.method.upper() not in READ_METHODS:
        cls = ProviderError
    if cls is RateLimited:
        return RateLimited(provider.name, answer.status, str(message), code=code, retry_after=None)
    return cls(provider.name, answer.status, str(message), code=code)


def play(
    provider: Provider, flow: Flow[T], answers: Sequence[Answer], *, chunk: int | None = None
) -> Played:
    """Drive ``flow`` against ``answers`` (one per ``Request``, in order), with no network.

    A streamed body is served in pieces of ``chunk`` bytes (else what each ``Read`` asks).
    A flow that makes more requests than there are answers fails the test, naming the request.
    """
    script = iter(answers)
    requests: list[Request] = []
    emitted: list[Any] = []
    body: bytes | None = None
    broken = False
    reply: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                return Played(result=stop.value, emitted=emitted, requests=requests)
            reply, error = None, None
            if isinstance(step, Emit):
                emitted.extend(step.items)
            elif isinstance(step, Read):
                assert body is not None, "the flow read a body without a streamed request before"
                size = chunk or step.size
                reply, body = body[:size], body[size:]
                if not reply and broken:
                    error = importbridge.TransportError(
                        f"{provider.name}: scripted: the answer broke off", provider=provider.name
                    )
            elif isinstance(step, Request):
                requests.append(step)
                answer = next(script, None)
                assert answer is not None, f"the flow made an unscripted request: {step.method} {step.path}"
                body = answer.body if step.stream else None
                broken = answer.broken
                if answer.error is not None:
                    error = answer.error
                elif answer.status >= 400:
                    error = status_error(provider, step, answer)
                else:
                    data = None if step.stream else answer.data
                    reply = Response(answer.status, dict(answer.headers), data)
            else:
                raise AssertionError(f"a flow yielded {type(step).__name__}: only Request, Read, Emit")
    finally:
        flow.close()


def record(flow: Flow[T], answers: list[Answer]) -> Flow[T]:
    """``flow``, passed through unchanged, appending to ``answers`` what each request got
    (a streamed body whole, as its chunks arrive): a script ``play`` can replay."""
    reply: Any = None
    error: BaseException | None = None
    streamed: list[bytes] | None = None  # the chunks of the last request's streamed body
    broken = False
    last: Answer | None = None

    def flush() -> None:
        nonlocal streamed, broken
        if last is not None and streamed is not None:
            answers[-1] = attrs.evolve(last, body=b"".join(streamed), broken=broken)
        streamed, broken = None, False

    try:
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                flush()
                return stop.value  # type: ignore[no-any-return]
            reply, error = None, None
            if isinstance(step, Request):
                flush()
            try:
                reply = yield step
            except importbridge.ImportBridgeError as exc:
                error = exc
                if isinstance(step, Request):
                    last = Answer(status=exc.status) if isinstance(exc, ProviderError) else Answer(error=exc)
                    answers.append(last)
                elif streamed is not None:
                    broken = True
                continue
            if isinstance(step, Request):
                last = Answer(status=reply.status, headers=reply.headers, data=reply.data)
                answers.append(last)
                streamed = [] if step.stream else None
            elif isinstance(step, Read) and streamed is not None:
                streamed.append(reply)
    finally:
        flow.close()


def _modules_imported(package: str) -> Iterator[tuple[str, str]]:
    """(file, module) for every import in the files of ``package``."""
    root = Path(inspect.getfile(importlib.import_module(package))).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield from ((path.name, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield path.name, node.module


class FlowConformance:
    """Base class of a provider's flow conformance tests: set ``provider`` (and, to run the
    round trip against its simulator, ``records``, ``bad_rows`` and ``submit_options``)."""

    provider: ClassVar[Provider]
    #: records to submit to the simulator: some it accepts, the ``bad_rows`` it rejects
    records: ClassVar[Sequence[Mapping[str, Any]]] = ()
    #: the 1-based numbers of the ``records`` the simulator rejects
    bad_rows: ClassVar[frozenset[int]] = frozenset()
    submit_options: ClassVar[Mapping[str, Any]] = {}
    #: ``importbridge.sandbox.run()`` keywords for the round trip
    sandbox_options: ClassVar[Mapping[str, Any]] = {"rate_limit": None}
    #: chunk sizes the recorded streamed bodies are replayed in, besides 1 to 64 bytes
    chunk_sizes: ClassVar[Sequence[int]] = (100, 1000, 4096, 65536)

    # -- helpers -------------------------------------------------------------------------------

    def context(self) -> FlowContext:
        """A ``FlowContext`` with every setting filled (defaults, else a placeholder)."""
        values = {s.name: s.default or f"{s.name}-value" for s in self.provider.settings}
        values.setdefault("base_url", "https://provider.invalid")
        return FlowContext(provider=self.provider.name, settings=values)

    def _needs_flows(self, operation: str) -> None:
        if Capability.CLIENT not in self.provider.capabilities:
            pytest.skip(f"{self.provider.name} has no client capability")
        if not has_flows(self.provider, operation):
            pytest.skip(f"{self.provider.name} does {operation} the older way (no flow)")

    def _jobs(self) -> list[tuple[Any, ImportJob]]:
        return [(payload, self.provider.normalize(payload)) for payload in self.provider.sample_payloads()]

    # -- without a network ---------------------------------------------------------------------

    def test_flows_provider_code_imports_no_http_library(self) -> None:
        package = type(self.provider).__module__.rsplit(".", 1)[0]
        found = [
            f"{name} imports {module}"
            for name, module in _modules_imported(package)
            if module in IO_MODULES or module.split(".")[0] in {"requests", "urllib3", "httpx", "aiohttp"}
        ]
        assert not found, f"{self.provider.name}'s flows must do no I/O: {found}"

    def test_flows_get_reads_every_sample(self) -> None:
        self._needs_flows("get")
        for payload, job in self._jobs():
            flow = self.provider.get_flow(self.context(), "job-1", {})
            played = play(self.provider, flow, [Answer(data=payload)])
            assert played.result == job
            assert [request.method.upper() for request in played.requests] == ["GET"]

    @pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
    def test_flows_get_lets_each_error_status_through(self, status: int) -> None:
        self._needs_flows("get")
        answer = Answer(status=status, data={"message": f"scripted {status}"})
        with pytest.raises(STATUS_ERRORS[status]) as raised:
            play(self.provider, self.provider.get_flow(self.context(), "job-1", {}), [answer] * 3)
        assert raised.value.status == status

    def test_flows_failed_rows_of_an_unfinished_job_ask_to_wait(self) -> None:
        self._needs_flows("failed_rows")
        unfinished = [(payload, job) for payload, job in self._jobs() if not job.done and job.id is not None]
        if not unfinished:
            pytest.skip("no sample payload of an unfinished job with an id")
        for payload, job in unfinished:
            flow = self.provider.failed_rows_flow(self.context(), job)
            with pytest.raises(WaitError):
                play(self.provider, flow, [Answer(data=payload)])

    # -- against the simulator -----------------------------------------------------------------

    def _round_trip(self) -> tuple[ImportJob, list[Any], list[Answer]]:
        if Capability.SANDBOX not in self.provider.capabilities or not self.records:
            pytest.skip(f"{self.provider.name}: no simulator, or no records to submit to it")
        self._needs_flows("submit")
        from importbridge import sandbox

        fast = importbridge.RetryPolicy(base=0.01, cap=0.05, sleep=lambda _: None)
        with sandbox.run(**self.sandbox_options) as sb, importbridge.connect(
            self.provider, retry=fast, **dict[str, Any](sb.settings(self.provider.name))
        ) as client:
            conn = client.connection
            records, options = list(self.records), dict(self.submit_options)
            job = conn.run(self.provider.submit_flow(conn.context, records, options))
            for _ in range(100):
                if job.done:
                    break
                sb.clock.advance(3600)
                assert job.id is not None, "an unfinished job must have an id to poll"
                job = conn.run(self.provider.get_flow(conn.context, job.id, {}))
            assert job.done, f"{self.provider.name}: the simulator's job did not finish"
            script: list[Answer] = []
            rows = list(conn.stream(record(self.provider.failed_rows_flow(conn.context, job), script)))
        return job, rows, script

    def test_flows_round_trip_against_the_simulator(self) -> None:
        job, rows, _ = self._round_trip()
        assert all(isinstance(row, importbridge.RowResult) for row in rows)
        if job.failed is not None:
            assert len(rows) == job.failed, "every failed row is read, to the last page or chunk"
        assert {row.row for row in rows} == set(self.bad_rows), "rows are numbered from 1, as submitted"

    def test_flows_streamed_answers_parse_alike_in_chunks_of_every_size(self) -> None:
        job, rows, script = self._round_trip()
        if not any(answer.body for answer in script):
            pytest.skip(f"{self.provider.name}'s failed rows stream no body")
        for chunk in [*range(1, 65), *self.chunk_sizes]:
            flow = self.provider.failed_rows_flow(self.context(), job)
            played = play(self.provider, flow, script, chunk=chunk)
            assert played.emitted == rows, f"chunks of {chunk} bytes read other rows"

