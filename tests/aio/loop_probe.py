"""Run by ``test_event_loop`` in a fresh interpreter: 500 concurrent waits under asyncio debug mode.

A fresh process holds no other test's threads (servers, sandboxes), which could otherwise hold
the GIL and be blamed on the event loop. Prints one JSON line: the finished jobs' states and
every line the ``asyncio`` logger wrote (slow callbacks, never-awaited coroutines, unclosed
resources). Usage: ``python loop_probe.py '<micro settings as JSON>' JOBS``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import warnings

import importbridge.aio
from importbridge import PollPolicy

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from support import MicroFlows  # beside this file (run as a script: no package)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def scenario(settings: dict[str, str], count: int) -> list[str]:
    loop = asyncio.get_running_loop()
    loop.slow_callback_duration = 0.05
    policy = PollPolicy(initial=0.2, min_interval=0.1, max_blind_interval=0.5)
    async with importbridge.aio.connect(MicroFlows(), **settings) as client:
        submits = []
        for n in range(count):
            rows = [{"name": f"C{n}", "domain": f"c{n}.example.com"}] * (1 + n % 40)
            submits.append(asyncio.ensure_future(client.submit(rows, idempotency_key=f"loop-{n}")))
            await asyncio.sleep(0)  # tasks started one by one: debug mode records each creation
        jobs = await asyncio.gather(*submits)
        waits = []
        for job in jobs:
            waits.append(asyncio.ensure_future(client.wait(job, policy=policy)))
            await asyncio.sleep(0)
        return [job.state.value for job in await asyncio.gather(*waits)]


def main() -> None:
    settings, count = json.loads(sys.argv[1]), int(sys.argv[2])
    collect = Collect()
    logging.getLogger("asyncio").addHandler(collect)
    warnings.simplefilter("error")
    gc.collect()
    gc.disable()  # a full collection's pause would be blamed on whichever step it fell in
    states = asyncio.run(scenario(settings, count), debug=True)
    gc.enable()
    gc.collect()  # unclosed sessions and transports warn when collected
    print(json.dumps({"states": states, "asyncio": collect.lines}))


if __name__ == "__main__":
    main()
