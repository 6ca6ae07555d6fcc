"""Nothing blocks the event loop: 500 concurrent waits of sandbox jobs under asyncio debug mode.

Debug mode logs every callback or task step that holds the loop longer than
``slow_callback_duration`` (here 50 ms), and warns of never-awaited coroutines and unclosed
resources; any such line fails the test. The sandbox runs in its own process, so its server
threads never compete with the event loop for this process's GIL. The cyclic garbage
collector is paused during the run (and run after it): debug mode keeps a traceback per task
and handle, and a full collection's pause, which is the interpreter's and not a blocking
call, would otherwise be blamed on whichever step it fell in.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

import pytest

import importbridge
import importbridge.aio
from importbridge import JobState, PollPolicy

from .support import MicroFlows, remote_sandbox

JOBS = 500


@pytest.mark.slow
def test_500_concurrent_waits_never_block_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    with remote_sandbox("--speed", "400", "--seed", "3") as sb:
        sb.configure(rate_limit=None, sync_threshold=0)  # every import is an async job to wait on
        policy = PollPolicy(initial=0.2, min_interval=0.1, max_blind_interval=0.5)

        async def scenario() -> list[importbridge.ImportJob]:
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = 0.05
            async with importbridge.aio.connect(MicroFlows(), **sb.micro()) as client:
                submits = []
                for n in range(JOBS):
                    rows = [{"name": f"C{n}", "domain": f"c{n}.example.com"}] * (1 + n % 40)
                    submits.append(asyncio.ensure_future(client.submit(rows, idempotency_key=f"loop-{n}")))
                    await asyncio.sleep(0)  # tasks started one by one: debug mode records each creation
                jobs = await asyncio.gather(*submits)
                waits = []
                for job in jobs:
                    waits.append(asyncio.ensure_future(client.wait(job, policy=policy)))
                    await asyncio.sleep(0)
                return await asyncio.gather(*waits)

        gc.collect()
        gc.disable()  # a full collection's pause would be blamed on whichever step it fell in
        try:
            with caplog.at_level(logging.WARNING, logger="asyncio"), warnings.catch_warnings():
                warnings.simplefilter("error")
                finished = asyncio.run(scenario(), debug=True)
                gc.collect()  # unclosed sessions and transports warn when collected
        finally:
            gc.enable()
        state = sb.state()
    assert len(finished) == JOBS
    assert {job.state for job in finished} <= {JobState.COMPLETE, JobState.PARTIAL}
    assert state["micro"]["imports"] == JOBS
    assert [record.getMessage() for record in caplog.records if record.name == "asyncio"] == []
