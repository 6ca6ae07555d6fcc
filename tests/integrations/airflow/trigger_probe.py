"""Run by ``test_event_loop`` in a fresh interpreter: ImportTriggers under asyncio debug mode.

Submits ``JOBS`` sandbox imports with the sync client (as the operator does, in a worker), then
runs one trigger per job, each rebuilt from its serialized form, on one event loop in debug mode
with a 50 ms slow-callback threshold. A fresh process holds no other test's threads, which
could hold the GIL and be blamed on the loop. Prints one JSON line: the events' statuses and
every line the ``asyncio`` logger wrote. Usage: ``python trigger_probe.py '<micro settings>' JOBS``.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import logging
import os
import sys
import time
import warnings
from typing import Any

import importbridge
from importbridge.integrations.airflow.triggers import ImportTrigger
from importbridge.polling import make_token


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def tokens(settings: dict[str, str], count: int, deadline: float) -> list[str]:
    with importbridge.connect("micro", **settings) as client:
        return [
            make_token(client, client.submit([{"name": f"C{n}", "domain": f"c{n}.example"}] * (1 + n % 40),
                                             request_id=f"probe-{n}"), deadline=deadline)
            for n in range(count)
        ]


async def scenario(triggers: list[dict[str, Any]]) -> list[str]:
    asyncio.get_running_loop().slow_callback_duration = 0.05
    module = importlib.import_module("importbridge.integrations.airflow.triggers")

    async def one(kwargs: dict[str, Any]) -> str:
        async for event in module.ImportTrigger(**kwargs).run():
            return str(event.payload["status"])
        return "none"

    return list(await asyncio.gather(*(one(kwargs) for kwargs in triggers)))


def main() -> None:
    settings, count = json.loads(sys.argv[1]), int(sys.argv[2])
    os.environ["AIRFLOW_CONN_PROBE"] = json.dumps({
        "conn_type": "importbridge_micro", "host": settings["base_url"], "password": settings["api_key"],
        "extra": json.dumps({"team_id": settings["team_id"]}),
    })
    deadline = time.time() + 120
    triggers = [ImportTrigger(conn_id="probe", token=token, deadline=deadline).serialize()[1]
                for token in tokens(settings, count, deadline)]
    collect = Collect()
    logging.getLogger("asyncio").addHandler(collect)
    warnings.simplefilter("error")
    gc.collect()
    gc.disable()  # a full collection's pause would be blamed on whichever step it fell in
    statuses = asyncio.run(scenario(triggers), debug=True)
    gc.enable()
    gc.collect()  # unclosed sessions and transports warn when collected
    print(json.dumps({"statuses": statuses, "asyncio": collect.lines}))


if __name__ == "__main__":
    main()
