"""The demo: the shipped sample data imported into every provider's sandbox at once.

``plan.json`` says which file goes to which provider with which options (data, so the core
names no provider); ``data/`` holds a few hundred companies, contacts and deals with some
deliberately bad rows (missing names, malformed emails and domains, amounts that are not
numbers), so every provider ends ``partial`` and shows its rejected rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from importbridge.client import ImportClient
    from importbridge.model import ImportJob
    from importbridge.sandbox import Sandbox

__all__ = ["Planned", "load_plan", "read_sample", "run"]


class Planned(NamedTuple):
    """One submit of the plan: to which provider, which sample file, which options."""

    provider: str
    records: str
    what: str
    options: dict[str, Any]


def _data() -> Any:
    return resources.files(__name__)


def load_plan() -> tuple[float, list[Planned]]:
    """(sandbox speed in rows per second, the submits) from the shipped ``plan.json``."""
    plan = json.loads((_data() / "plan.json").read_text(encoding="utf-8"))
    entries = [
        Planned(item["provider"], item["records"], item.get("what", item["records"]), dict(item["options"]))
        for item in plan["imports"]
    ]
    return float(plan["speed"]), entries


def read_sample(name: str) -> list[dict[str, str]]:
    """The rows of one shipped sample CSV file."""
    text = (_data() / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _submit_all(client: ImportClient, entries: Sequence[Planned]) -> list[ImportJob]:
    """One provider's submits, in order; stacked submits answering the same job count once."""
    jobs: dict[str | None, ImportJob] = {}
    for entry in entries:
        job = client.submit(read_sample(entry.records), **entry.options)
        jobs[job.id if job.id is not None else f"sync-{len(jobs)}"] = job
    return list(jobs.values())


def run(
    sb: Sandbox,
    *,
    on_update: Callable[[ImportJob], None] | None = None,
    timeout: float | None = 60.0,
) -> Iterator[ImportJob]:
    """Submit the plan to the sandbox ``sb`` (all providers at once); yield each job as it ends."""
    import importbridge

    _, entries = load_plan()
    by_provider: dict[str, list[Planned]] = {}
    for entry in entries:
        by_provider.setdefault(entry.provider, []).append(entry)
    with ExitStack() as stack:
        settings: dict[str, dict[str, Any]] = {name: sb.settings(name) for name in by_provider}
        clients = {
            name: stack.enter_context(importbridge.connect(name, **settings[name])) for name in by_provider
        }
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            batches = list(pool.map(lambda name: _submit_all(clients[name], by_provider[name]), clients))
        jobs = [job for batch in batches for job in batch]
        for job in jobs:
            if on_update is not None:
                on_update(job)
            if job.done:
                yield job
        running = [job for job in jobs if not job.done]
        if running:
            yield from importbridge.wait_all(running, clients=clients, timeout=timeout, on_update=on_update)
