"""Fixtures for the client tests (helpers live in ``support``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import importbridge

from .support import CANARY, EchoProvider, ScriptedServer, Waits


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def echo() -> EchoProvider:
    return EchoProvider()


@pytest.fixture
def client(server: ScriptedServer, waits: Waits, echo: EchoProvider) -> Iterator[importbridge.ImportClient]:
    policy = importbridge.RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda value: value)
    with importbridge.connect(
        echo, api_key=CANARY, base_url=server.url, retry=policy, timeout=(2.0, 5.0)
    ) as made:
        yield made
