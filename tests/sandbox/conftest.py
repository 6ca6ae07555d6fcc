"""Fixtures for the sandbox's own tests: a frozen sandbox and small HTTP helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from importbridge import sandbox


@pytest.fixture
def sb() -> Iterator[sandbox.Sandbox]:
    """A frozen sandbox: only ``sb.clock.advance`` moves jobs along."""
    with sandbox.run(frozen=True, seed=1) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def micro_headers(sb: sandbox.Sandbox) -> dict[str, str]:
    return {"x-api-key": sb.settings("micro")["api_key"]}


def micro_import_url(sb: sandbox.Sandbox, object_type: str = "organization") -> str:
    settings = sb.settings("micro")
    return f"{settings['base_url']}/v2/prism/{settings['team_id']}/{object_type}/import"


def organizations(count: int, *, prefix: str = "org") -> list[dict[str, object]]:
    return [
        {"default": {"name": f"{prefix} {n}", "domain": f"{prefix}{n}.example.com"}} for n in range(count)
    ]
