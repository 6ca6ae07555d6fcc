"""The documented flows end to end: importbridge's own client against the sandbox, per provider."""

from __future__ import annotations

from typing import Any

import pytest

import importbridge
from importbridge import sandbox

# provider -> (records, submit options, records the sandbox should store)
FLOWS: dict[str, tuple[list[dict[str, Any]], dict[str, Any], int]] = {
    "micro": ([{"name": f"Company {n}", "domain": f"company{n}.example.com"} for n in range(150)], {}, 150),
    "qobra": ([{"id": str(n), "amount": n * 1.5} for n in range(150)], {"table": "opportunities"}, 150),
    "talkvalue": ([{"email": f"person{n}@example.com"} for n in range(150)], {"source_id": 1}, 150),
}


@pytest.mark.parametrize("provider", sorted(FLOWS))
def test_connect_submit_advance_get(provider: str) -> None:
    records, options, stored = FLOWS[provider]
    with sandbox.run(frozen=True, seed=1) as sb, \
            importbridge.connect(provider, **sb.settings(provider)) as client:
        job = client.submit(records, **options)
        assert job.id is not None
        assert not job.done
        sb.clock.advance(60)
        finished = client.get(job.id)
        assert finished.state is importbridge.JobState.COMPLETE
        assert finished.succeeded == len(records)
        state = sb.state()[provider]
        assert (state["imports"], state["records"]) == (1, stored)


ROWS_400: dict[str, list[dict[str, Any]]] = {
    "micro": [{"name": f"Company {n}", "domain": f"company{n}.example.com"} for n in range(400)],
    "qobra": [{"id": str(n), "amount": n * 1.5} for n in range(400)],
    "talkvalue": [{"email": f"person{n}@example.com"} for n in range(400)],
}


@pytest.mark.parametrize("provider", sorted(FLOWS))
def test_with_the_default_speed_400_rows_finish_within_a_few_seconds(provider: str) -> None:
    """Issue 3's default: 400 rows finish within a few seconds (here 3 virtual seconds, the
    same pace as real time on an unfrozen clock), and are still under way right after submit."""
    _, options, _ = FLOWS[provider]
    rows = ROWS_400[provider]
    with sandbox.run(frozen=True, seed=2) as sb, \
            importbridge.connect(provider, **sb.settings(provider)) as client:
        job = client.submit(rows, **options)
        assert job.id is not None
        assert not job.done
        sb.clock.advance(3)
        finished = client.get(job.id)
        assert finished.state is importbridge.JobState.COMPLETE
        assert finished.succeeded == 400
