"""Every test here runs once per engine (``engine_kind``): sync (requests) and asyncio (aiohttp)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client.support import CANARY, ScriptedServer, Waits

import importbridge

from .support import ENGINES, Engine, require_aiohttp


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "async":
        require_aiohttp()
    return str(request.param)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def make(engine_kind: str, server: ScriptedServer, waits: Waits) -> Callable[..., Engine]:
    """An engine on ``server`` (or ``base_url``), waits recorded, jitter off."""

    def made(base_url: str | None = None, **options: Any) -> Engine:
        options.setdefault(
            "retry", importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda v: v)
        )
        options.setdefault("timeout", (2.0, 5.0))
        settings = {"api_key": CANARY, "base_url": base_url or server.url}
        return Engine(engine_kind, settings, **options)

    return made


@pytest.fixture
def engine(make: Callable[..., Engine]) -> Engine:
    return make()
