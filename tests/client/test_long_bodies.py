"""A long answer's row arrays reach the adapter in chunks, through both engines, from a real server.

The transports decode a body of ``LONG_TEXT`` bytes or more with the provider's ``row_arrays``
(``importbridge.longarrays``): the job fetched is the one ``json.loads`` would give, its payload's
rows stay text until read, and a bad row deep in the answer is still refused when fetched.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from typing import Any

import pytest

import importbridge
from importbridge import LongArray, PayloadError, longarrays

from .support import Reply, ScriptedServer

MICRO = {"api_key": "k-long-bodies", "team_id": "team-1"}


def _finished(rows: int) -> dict[str, Any]:
    results = [
        {"id": f"rec-{n}", "created": n % 3 != 0, "existing": n % 3 == 0}
        if n % 7
        else {"id": None, "error": {"code": "invalid_email", "message": f"row {n}: not an address"}}
        for n in range(rows)
    ]
    return {"job_id": "imp_long", "status": "complete", "total": rows, "results": results}


def _get_sync(server: ScriptedServer) -> importbridge.ImportJob:
    with importbridge.connect("micro", base_url=server.url, **MICRO) as client:
        return client.get("imp_long")


def _get_async(server: ScriptedServer) -> importbridge.ImportJob:
    import importbridge.aio

    async def get() -> importbridge.ImportJob:
        async with importbridge.aio.connect("micro", base_url=server.url, **MICRO) as client:
            return await client.get("imp_long")

    return asyncio.run(get())


def _engines() -> list[Any]:
    """Both engines; the async one where aiohttp is installed (always in CI, which needs it)."""
    engines = [pytest.param(_get_sync, id="sync")]
    if os.environ.get("IMPORTBRIDGE_REQUIRE_EXTRAS") or importlib.util.find_spec("aiohttp"):
        engines.append(pytest.param(_get_async, id="async"))
    return engines


ENGINES = _engines()


@pytest.fixture
def long_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer counts as long (a real 2 MiB answer makes no other difference)."""
    monkeypatch.setattr(longarrays, "LONG_TEXT", 0)
    monkeypatch.setattr(longarrays, "CHUNK", 512)


@pytest.mark.parametrize("get", ENGINES)
def test_a_long_answer_gives_the_job_json_loads_gives(
    get: Any, server: ScriptedServer, long_text: None
) -> None:
    payload = _finished(2000)
    server.default = Reply(body=payload)
    job = get(server)
    assert type(job.raw["results"]) is LongArray
    assert job.raw == payload
    expected = importbridge.normalize("micro", payload)
    assert job == expected
    assert job.rows == expected.rows
    assert (job.failed, job.updated, job.created) == (286, 571, 1143)


@pytest.mark.parametrize("get", ENGINES)
def test_a_bad_row_deep_in_a_long_answer_is_refused_when_fetched(
    get: Any, server: ScriptedServer, long_text: None
) -> None:
    payload = _finished(2000)
    payload["results"][1733]["existing"] = "yes"
    server.default = Reply(body=payload)
    with pytest.raises(PayloadError) as fetched:
        get(server)
    with pytest.raises(PayloadError) as given:
        importbridge.normalize("micro", json.dumps(payload))
    assert str(fetched.value) == str(given.value)
    assert "results[1733].existing" in str(fetched.value)
