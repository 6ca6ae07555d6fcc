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
