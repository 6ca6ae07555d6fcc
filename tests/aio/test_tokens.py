"""The async client reads resume tokens as the sync one does: a token never chooses where
credentials go (a ``base_url`` or a key in its context, another origin) and, with a token key,
only signed tokens are read. A loopback "attacker" on another port must receive nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from polling.forgery import body_of, corrupt, seal

import importbridge
import importbridge.aio
from importbridge import TokenError, sandbox

SECRET = "canary-key-0123456789"


@pytest.fixture
def attacker() -> Iterator[tuple[str, list[str]]]:
    """A server on another port that records every request it gets."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.path} {dict(self.headers)}")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def micro(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[sandbox.Sandbox, str]]:
    """The sandbox as Micro's configured origin (environment variables, a canary key), and a
    legitimate token for a job there."""
    with sandbox.run(frozen=True, rate_limit=None) as sb:
        settings = sb.settings("micro")
        monkeypatch.setenv("MICRO_BASE_URL", settings["base_url"])
        monkeypatch.setenv("MICRO_TEAM_ID", settings["team_id"])
        monkeypatch.setenv("MICRO_API_KEY", SECRET)
        monkeypatch.delenv("IMPORTBRIDGE_TOKEN_KEY", raising=False)
        with importbridge.connect("micro", api_key=settings["api_key"]) as client:
            rows = [{"name": f"Co {n}", "domain": f"co{n}.example.com"} for n in range(150)]
            job = client.submit(rows, idempotency_key="aio-tokens")
            yield sb, client.token(job)


@pytest.mark.parametrize(
    ("path", "value"),
    [("c.base_url", "{attacker}"), ("c.api_key", "stolen"), ("o", "{attacker}")],
    ids=["base_url in the context", "a key in the context", "another origin"],
)
def test_a_forged_token_is_refused_before_any_request(micro, attacker, path, value) -> None:
    _, legit = micro
    url, seen = attacker
    forged = seal(corrupt(body_of(legit), path, value.format(attacker=url)))

    async def resume() -> Any:
        return await importbridge.aio.resume(forged, timeout=1)

    async def wait_all() -> Any:
        return [job async for job in importbridge.aio.wait_all([forged], timeout=1)]

    for attempt in (resume, wait_all):
        with pytest.raises(TokenError) as caught:
            asyncio.run(attempt())
        assert SECRET not in str(caught.value)
    assert seen == []


def test_with_a_token_key_only_signed_tokens_are_read(micro, monkeypatch) -> None:
    _, legit = micro
    monkeypatch.setenv("IMPORTBRIDGE_TOKEN_KEY", "aio-test-token-key-0123456789")
    with pytest.raises(TokenError, match="unsigned"):
        asyncio.run(importbridge.aio.resume(legit, timeout=1))
