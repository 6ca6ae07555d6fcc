"""The Airflow integration's tests need the ``airflow`` extra (required in CI:
IMPORTBRIDGE_REQUIRE_EXTRAS)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

if not os.environ.get("IMPORTBRIDGE_REQUIRE_EXTRAS"):
    pytest.importorskip("airflow.sdk")
    pytest.importorskip("aiohttp")

from importbridge import sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    """A sandbox whose imports are all async jobs of a few seconds."""
    with sandbox.run(speed=200, sync_threshold=0, rate_limit=None, seed=7) as running:
        yield running


def connection_env(sb: sandbox.Sandbox, provider: str, **changes: Any) -> str:
    """An Airflow connection (``AIRFLOW_CONN_*`` JSON) to ``provider`` in the sandbox."""
    settings = sb.settings(provider)
    secret = {"micro": "api_key", "qobra": "api_key", "talkvalue": "token"}[provider]
    extra = {k: v for k, v in settings.items() if k not in ("base_url", secret)}
    conn = {"conn_type": f"importbridge_{provider}", "host": settings["base_url"],
            "password": settings[secret], "extra": json.dumps(extra), **changes}
    return json.dumps(conn)


@pytest.fixture
def connections(sb: sandbox.Sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Connection ids ``sb_<provider>`` for the three sandbox providers."""
    ids = {}
    for provider in ("micro", "qobra", "talkvalue"):
        monkeypatch.setenv(f"AIRFLOW_CONN_SB_{provider.upper()}", connection_env(sb, provider))
        ids[provider] = f"sb_{provider}"
    return ids


#: one import per sandbox provider: (records, submit options)
IMPORTS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "micro": ([{"name": f"Acme {i}", "domain": f"acme{i}.example"} for i in range(300)], {}),
    "qobra": ([{"id": f"d-{i}", "amount": str(i)} for i in range(300)], {"table": "deals"}),
    "talkvalue": (
        [{"email": f"p{i}@example.com", "first_name": f"P{i}"} for i in range(300)], {"source_id": 1}
    ),
}
