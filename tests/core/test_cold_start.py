"""What a fresh process loads for one call: only what that call uses (no timing: benchmarks/startup.py).

Normalizing a built-in provider's payload needs the model and that provider's reader; connecting
needs the provider class, its settings and a transport (requests). Neither scans entry points
nor loads pluggy, another provider, or what only a later call uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

#: loaded by neither call (pluggy and the entry-point scan only for a plugin that is not built in)
NEVER = (
    "pluggy", "cattrs", "backoff", "aiohttp", "importbridge.hookspecs", "importbridge.polling",
    "importbridge.tokens", "importbridge.schedule", "importbridge.aio", "importbridge.checkpoint",
)
#: loaded by connect() only when a flow runs, or by normalize() only when asked to connect
NORMALIZE_SKIPS = (*NEVER, "requests", "urllib3", "importbridge.transport", "importbridge.client",
                   "importbridge.flows", "importlib.metadata")
CONNECT_SKIPS = (*NEVER, "importbridge.model", "importbridge.convert", "importbridge.reading",
                 "importbridge.flows", "importbridge.syncengine", "importbridge.longarrays")
PAYLOADS = {
    "micro": {"job_id": "imp_1", "status": "processing", "total": 5000, "processed": 12},
    "qobra": {"data_import": {
        "id": "665f", "created_at": "2024-06-25T09:58:32Z", "status": "started", "progress": "40",
        "data_tables_details": [
            {"type": "api", "status": "started", "data_table_key": "deals", "progress": "40"},
        ],
    }},
    "talkvalue": {"id": 4219, "status": "RUNNING", "totalRows": 300, "processedRows": 12},
}
SETTINGS = {"micro": {"api_key": "k", "team_id": "t"}, "qobra": {"api_key": "k"}, "talkvalue": {"token": "k"}}


def loaded_after(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; its ``result`` and every module then loaded."""
    probe = f"import json, sys\n{textwrap.dedent(code)}\nprint(json.dumps([result, sorted(sys.modules)]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    result, modules = json.loads(done.stdout)
    return {"result": result, "modules": set(modules)}


def _own(name: str, modules: set[str]) -> list[str]:
    return sorted(module for module in modules if module.startswith("importbridge_") and
                  not module.startswith(f"importbridge_{name}"))


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_normalize_loads_the_model_and_that_reader_alone(name: str) -> None:
    out = loaded_after(f"""
        import importbridge
        result = importbridge.normalize({name!r}, {json.dumps(PAYLOADS[name])!r}).state.value
    """)
    assert out["result"] == "running"
    modules = out["modules"]
    assert isinstance(modules, set)
    assert {"importbridge.model", f"importbridge_{name}.normalize"} <= modules  # the probe sees
    assert sorted(set(NORMALIZE_SKIPS) & modules) == []
    assert _own(name, modules) == []


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_connect_loads_no_model_and_no_flow_machinery(name: str) -> None:
    out = loaded_after(f"""
        import importbridge
        client = importbridge.connect({name!r}, base_url="http://127.0.0.1:9", **{SETTINGS[name]!r})
        result = client.provider.name
    """)
    assert out["result"] == name
    modules = out["modules"]
    assert isinstance(modules, set)
    assert {"requests", "importbridge.transport", f"importbridge_{name}.provider"} <= modules
    assert sorted(set(CONNECT_SKIPS) & modules) == []
    assert not {f"importbridge_{name}.normalize", f"importbridge_{name}.api"} & modules
    assert _own(name, modules) == []


def test_what_connect_left_out_loads_on_first_use() -> None:
    out = loaded_after("""
        import importbridge
        client = importbridge.connect("micro", api_key="k", team_id="t", base_url="http://127.0.0.1:9")
        adapter = client.provider
        words = sorted(adapter.status_words)
        job = adapter.normalize({"job_id": "a", "status": "complete", "total": 2, "processed": 2,
                                 "succeeded": 2, "failed": 0})
        result = [words, job.state.value, importbridge.JobState.RUNNING in adapter.status_words.values()]
    """)
    assert out["result"] == [["complete", "failed", "processing"], "complete", True]
    assert "importbridge_micro.normalize" in out["modules"]
