"""The sync engine carries out providers' flows over a real loopback server.

A flow-style provider (``FlowEcho``) is driven through ``ImportClient`` and through the old
methods the base class derives from its flows; ``EchoProvider`` (tests/client/support.py)
is a plugin written before flows, and every other test in tests/client still drives it.
"""

from __future__ import annotations

import gc
import json
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

import importbridge
from importbridge import ImportJob, JobNotFound, PluginError, RowOutcome, RowResult, TransportError
from importbridge.flows import Emit, Flow, FlowContext, Read, Request, StreamedBody, has_flows

from .support import CANARY, EchoProvider, Reply, ScriptedServer, Waits

CSV = b"row,message\n" + b"".join(b"%d,bad value %d\n" % (n, n) for n in range(1, 301))


class FlowEcho(EchoProvider):
    """``EchoProvider``'s conversation written as flows (no I/O in the provider)."""

    name = "flowecho"
    log: list[str]

    def __init__(self) -> None:
        self.log = []

    def submit_flow(
        self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> Flow[ImportJob]:
        response = yield Request("POST", "/jobs", json={"rows": list(records), **options}, idempotent=True)
        return self.normalize(response.data)

    def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
        try:
            response = yield Request("GET", f"/jobs/{job_id}")
        except JobNotFound:  # errors are thrown into the flow, which may try elsewhere
            response = yield Request("GET", f"/archive/{job_id}")
        return self.normalize(response.data)

    def failed_rows_flow(self, ctx: FlowContext, job: ImportJob) -> Flow[None]:
        try:
            yield Request("GET", f"/jobs/{job.id}/failed.csv", stream=True)
            rest = b""
            while chunk := (yield Read(7)):
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                yield Emit([_row(line) for line in lines if line and not line.startswith(b"row,")])
        finally:
            self.log.append("closed")

    def find_submit_flow(self, ctx: FlowContext, request_id: str) -> Flow[ImportJob | None]:
        response = yield Request("GET", "/jobs", params={"request_id": request_id})
        return self.normalize(response.data[0]) if response.data else None

    # the old methods are the base class's: they drive the flows above
    submit = importbridge.Provider.submit  # type: ignore[assignment]
    get = importbridge.Provider.get  # type: ignore[assignment]
    failed_rows = importbridge.Provider.failed_rows  # type: ignore[assignment]


def _row(line: bytes) -> RowResult:
    number, message = line.decode().split(",", 1)
    return RowResult(row=int(number), outcome=RowOutcome.FAILED, error=importbridge.JobError(message=message))


@pytest.fixture
def flow_client(server: ScriptedServer, waits: Waits) -> Iterator[importbridge.ImportClient]:
    policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda value: value)
    with importbridge.connect(
        FlowEcho(), api_key=CANARY, base_url=server.url, retry=policy, timeout=(2.0, 5.0)
    ) as made:
        yield made


def test_which_style_a_provider_uses_is_known_per_operation() -> None:
    assert all(has_flows(FlowEcho(), op) for op in ("submit", "get", "failed_rows", "find_submit"))
    assert not any(has_flows(EchoProvider(), op) for op in ("submit", "get", "failed_rows", "find_submit"))
    assert not has_flows(importbridge.Provider(), "get")

    class OldGetOverFlows(FlowEcho):  # a subclass that overrides the old method is taken at its word
        def get(self, conn: importbridge.Connection, job_id: str, context: Mapping[str, str]) -> ImportJob:
            raise AssertionError

    assert not has_flows(OldGetOverFlows(), "get")
    assert has_flows(OldGetOverFlows(), "submit")
    with pytest.raises(ValueError, match="unknown operation"):
        has_flows(FlowEcho(), "delete")


def test_a_flow_submits_and_gets(flow_client: importbridge.ImportClient, server: ScriptedServer) -> None:
    server.queue(Reply(body={"id": "j1", "status": "queued"}), Reply(body={"id": "j1", "status": "done"}))
    assert flow_client.submit([{"a": 1}], tag="x").state is importbridge.JobState.PENDING
    assert flow_client.get("j1").state is importbridge.JobState.COMPLETE
    assert [seen.method for seen in server.seen] == ["POST", "GET"]
    assert json.loads(server.seen[0].body) == {"rows": [{"a": 1}], "tag": "x"}
    assert server.seen[1].headers["x-echo-key"] == CANARY  # the transport's credentials


def test_the_old_methods_drive_the_flows(
    flow_client: importbridge.ImportClient, server: ScriptedServer
) -> None:
    server.queue(Reply(body={"id": "j2", "status": "done"}))
    job = flow_client.provider.get(flow_client.connection, "j2", {})
    assert job.id == "j2"


def test_errors_are_thrown_into_the_flow(
    flow_client: importbridge.ImportClient, server: ScriptedServer
) -> None:
    server.queue(Reply(404, {"message": "gone"}), Reply(body={"id": "j3", "status": "done"}))
    assert flow_client.get("j3").id == "j3"
    assert [seen.path for seen in server.seen] == ["/jobs/j3", "/archive/j3"]
    server.queue(Reply(401, {"message": "no"}))
    with pytest.raises(importbridge.AuthenticationError):
        flow_client.get("j4")


def test_a_streamed_answer_is_read_in_chunks_and_rows_are_emitted_as_they_come(
    flow_client: importbridge.ImportClient, server: ScriptedServer
) -> None:
    provider = flow_client.provider
    assert isinstance(provider, FlowEcho)
    job = ImportJob(provider="flowecho", id="j5", state=importbridge.JobState.COMPLETE, provider_state="done")
    server.queue(Reply(raw=CSV))
    rows = list(flow_client.failed_rows(job))
    assert [row.row for row in rows] == list(range(1, 301))
    assert provider.log == ["closed"]
    server.queue(Reply(raw=CSV))
    first = next(iter(flow_client.failed_rows(job)))  # a caller that stops early closes the flow
    assert first.row == 1
    gc.collect()
    assert provider.log == ["closed", "closed"]


def test_a_streamed_body_starts_again_from_its_first_byte_on_a_resend(
    flow_client: importbridge.ImportClient, server: ScriptedServer
) -> None:
    calls: list[int] = []

    def pieces() -> Iterator[bytes]:
        calls.append(1)
        yield from (b"part-%d;" % n for n in range(50))

    body = b"".join(b"part-%d;" % n for n in range(50))

    def upload(ctx: FlowContext) -> Flow[Any]:
        response = yield Request(
            "POST", "/upload", body=StreamedBody(chunks=pieces, length=len(body)), idempotent=True
        )
        return response.data

    server.queue(Reply(503, {"message": "busy"}), Reply(body={"ok": 1}))
    assert flow_client.connection.run(upload(flow_client.connection.context)) == {"ok": 1}
    assert [seen.body for seen in server.seen] == [body, body]
    assert len(calls) == 2
    assert server.seen[0].headers["Content-Type"] == "application/octet-stream"


def test_a_flow_that_misbehaves_is_a_plugin_error(flow_client: importbridge.ImportClient) -> None:
    conn = flow_client.connection

    def emits() -> Flow[None]:
        yield Emit([1])

    def junk() -> Flow[None]:
        yield "GET /jobs"  # type: ignore[misc]

    def reads_first() -> Flow[None]:
        yield Read()

    with pytest.raises(PluginError, match="emitted"):
        conn.run(emits())
    with pytest.raises(PluginError, match="may yield only"):
        conn.run(junk())
    def two_bodies() -> Flow[None]:
        yield Request("POST", "/jobs", json={"a": 1}, content=b"a=1")

    with pytest.raises(PluginError, match="Read without"):
        conn.run(reads_first())
    with pytest.raises(PluginError, match="one of json, content and body"):
        conn.run(two_bodies())


def _cut_short_server() -> tuple[socket.socket, threading.Thread]:
    """A raw loopback server: each connection gets a 200 promising 100 bytes, 10 sent, then FIN."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = conn.recv(4096)
                    if not data:
                        break
                    head += data
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_a_body_that_breaks_off_is_a_transport_error_in_the_flow(waits: Waits) -> None:
    listener, thread = _cut_short_server()
    seen: list[str] = []

    def reader(resume: bool) -> Flow[list[bytes]]:
        got: list[bytes] = []
        for _attempt in range(2):
            yield Request("GET", f"/big?key={CANARY}", stream=True)
            got.append(b"")
            try:
                while chunk := (yield Read(4)):
                    got[-1] += chunk
            except TransportError as error:  # the flow may ask again, or let it go
                seen.append(str(error))
                if not resume:
                    raise
        return got

    policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock)
    port = listener.getsockname()[1]
    try:
        with importbridge.connect(
            FlowEcho(), api_key=CANARY, base_url=f"http://127.0.0.1:{port}", retry=policy
        ) as client:
            parts = client.connection.run(reader(resume=True))
            assert len(parts) == 2
            assert all(b"0123456789".startswith(part) for part in parts)
            with pytest.raises(TransportError, match="broke off"):
                client.connection.run(reader(resume=False))
    finally:
        listener.close()
        thread.join(5)
    assert len(seen) == 3
    assert all("broke off" in text and CANARY not in text for text in seen)


def test_a_streamed_body_of_unknown_length_goes_out_chunked(waits: Waits) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while not data.endswith(b"\r\n0\r\n\r\n"):
                more = conn.recv(65536)
                if not more:
                    break
                data += more
            received.append(data)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def upload() -> Flow[Any]:
        body = StreamedBody(chunks=lambda: (b"line %d\n" % n for n in range(1000)), content_type="text/csv")
        response = yield Request("POST", "/upload", body=body, idempotent=True)
        return response.data

    port = listener.getsockname()[1]
    try:
        with importbridge.connect(
            FlowEcho(), api_key=CANARY, base_url=f"http://127.0.0.1:{port}",
            retry=importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock),
        ) as client:  # fmt: skip
            assert client.connection.run(upload()) == {}
    finally:
        listener.close()
        thread.join(5)
    head, _, chunked = received[0].partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"content-type: text/csv" in head.lower()
    decoded, rest = b"", chunked
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        decoded, rest = decoded + rest[:size], rest[size + 2 :]
    assert decoded == b"".join(b"line %d\n" % n for n in range(1000))


def test_an_empty_answer_is_a_response_without_data(
    flow_client: importbridge.ImportClient, server: ScriptedServer
) -> None:
    def delete() -> Flow[Any]:
        response = yield Request("DELETE", "/jobs/j9", idempotent=True)
        return (response.status, response.data)

    server.queue(Reply(204, raw=b""))
    assert flow_client.connection.run(delete()) == (204, None)
    assert server.count() == 1  # not taken for a lost answer and resent
