"""For the async client's tests: Micro written with flows, and the sandbox in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import attrs
import requests
from importbridge_micro.provider import MicroProvider

from importbridge import ImportJob
from importbridge.flows import Flow, FlowContext, Request


class MicroFlows(MicroProvider):
    """Micro's submit and get as flows (until the built-ins move to flows, the async engine's
    test provider): the same requests as ``importbridge_micro.api``, with no I/O of its own."""

    def submit_flow(
        self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> Flow[ImportJob]:
        key = str(options.get("request_id") or options["idempotency_key"])
        response = yield Request(
            "POST",
            f"/v2/prism/{quote(ctx.settings['team_id'], safe='')}/organization/import",
            json={"objects": [{"default": dict(row)} for row in records]},
            headers={"Idempotency-Key": key},
            idempotent=True,
        )
        return self.normalize(response.data)

    def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
        team = context.get("team_id") or ctx.settings["team_id"]
        response = yield Request("GET", f"/v2/prism/{quote(team, safe='')}/imports/{quote(job_id, safe='')}")
        return self.normalize(response.data)


@attrs.frozen
class Remote:
    """A sandbox served by another process (so its threads never share this one's GIL)."""

    env: Mapping[str, str]
    root: str

    def micro(self) -> dict[str, str]:
        return {
            "api_key": self.env["MICRO_API_KEY"],
            "base_url": self.env["MICRO_BASE_URL"],
            "team_id": self.env["MICRO_TEAM_ID"],
        }

    def configure(self, **knobs: Any) -> None:
        requests.post(f"{self.root}/_sandbox/configure", json=knobs, timeout=10).raise_for_status()

    def state(self) -> Any:
        return requests.get(f"{self.root}/_sandbox/state", timeout=10).json()


@contextmanager
def remote_sandbox(*args: str) -> Iterator[Remote]:
    """``importbridge sandbox`` in a child process, with ``args`` (e.g. ``--speed 200``)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "importbridge", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        env: dict[str, str] = {}
        while len(env) < 7:
            line = process.stdout.readline()
            assert line, "the sandbox did not start"
            name, value = line.removeprefix("export ").strip().split("=", 1)
            env[name] = value
        yield Remote(env=env, root=env["MICRO_BASE_URL"].removesuffix("/micro"))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
