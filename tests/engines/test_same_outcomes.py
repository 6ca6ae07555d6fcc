"""Property: for any script of answers, both engines send the same requests and end the same way.

Hypothesis draws a sequence of answers (success, each retryable and non-retryable status, a
reset after reading the request, a truncated body) and a kind of request (a GET, a plain POST,
a POST carrying an idempotency key); each engine runs it against its own loopback server.
Both must make the same number of requests, wait the same waits, and end with the same
result or the same error class.
"""

from __future__ import annotations

from typing import Any

from client.support import CANARY, Reply, ScriptedServer, Waits
from hypothesis import given, settings
from hypothesis import strategies as st

import importbridge
from importbridge.flows import Request

from .support import ENGINES, Engine, require_aiohttp

JOB = {"id": "7", "status": "done"}
ANSWERS = {
    "ok": Reply(200, JOB),
    "reset": Reply(action="reset"),
    "truncated": Reply(200, raw=b'{"id": "7", "sta'),
    **{
        str(status): Reply(status, {"message": "no"})
        for status in (400, 401, 404, 408, 409, 429, 500, 503, 504)
    },
    "429 later": Reply(429, {"message": "later"}, {"Retry-After": "2"}),
}


def outcome(kind: str, script: list[str], call: str) -> tuple[Any, ...]:
    server = ScriptedServer()
    waits = Waits()
    try:
        server.queue(*(ANSWERS[name] for name in script))
        server.default = Reply(200, JOB)
        policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda v: v, tries=4)
        engine = Engine(kind, {"api_key": CANARY, "base_url": server.url}, retry=policy, timeout=(2.0, 5.0))
        try:
            if call == "get":
                result: Any = engine.get("7").id
            elif call == "plain put":  # a PUT is resent only when its flow says it is safe
                result = engine.request(Request("PUT", "/jobs/7", json={"a": 1})).status
            else:
                result = engine.submit(
                    [{"a": 1}], **({"request_id": "r-1"} if call == "keyed post" else {})
                ).id
        except importbridge.ImportBridgeError as error:
            result = type(error).__name__
        return result, server.count(), waits.waits
    finally:
        server.close()


@settings(max_examples=40)
@given(script=st.lists(st.sampled_from(sorted(ANSWERS)), max_size=5), call=st.sampled_from(
    ["get", "plain post", "keyed post", "plain put"]
))  # fmt: skip
def test_both_engines_end_the_same_way(script: list[str], call: str) -> None:
    require_aiohttp()
    sync, asynchronous = (outcome(kind, script, call) for kind in ENGINES)
    assert sync == asynchronous
