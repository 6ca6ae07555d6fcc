"""The README's promises: the two set-up commands, and a library example that runs as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block_after(heading: str, language: str) -> str:
    match = re.search(rf"## {re.escape(heading)}\n\n```{language}\n(.*?)```", README, flags=re.DOTALL)
    assert match is not None, f"README has no {language} block under '## {heading}'"
    return match.group(1)


def test_the_test_command_is_what_ci_runs() -> None:
    commands = block_after("Run the tests", "sh").splitlines()
    assert commands == ['pip install -e ".[dev]"', "python -m pytest -q"]
    assert "python -m pytest -q\n" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_demo_command_installs_the_cli_extra() -> None:
    assert block_after("Run the demo", "sh").strip() == 'pip install -e ".[cli]" && importbridge demo'


def test_the_library_example_runs_and_prints_what_it_says() -> None:
    code = block_after("From Python", "python")
    assert len(code.strip().splitlines()) <= 12
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["partial 150 1", "151 required name is required"]


def test_the_shell_example_runs(tmp_path: Path) -> None:
    """The README's shell lines, as printed, on the demo's companies (200 rows: an async Micro job)."""
    import json
    import os
    import shutil

    import pytest

    import importbridge

    if shutil.which("jq") is None or shutil.which("bash") is None:
        pytest.skip("the shell example needs bash and jq")
    data = ROOT / "src" / "importbridge" / "demo" / "data" / "companies.csv"
    shutil.copy(data, tmp_path / "companies.csv")
    payload = importbridge.get_provider("qobra").sample_payloads()[0]
    (tmp_path / "captured-status.json").write_text(json.dumps(payload), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICRO_", "QOBRA_", "TALKVALUE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = block_after("From a shell", "sh") + "kill %1\n"
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "partial"
    rejected = (tmp_path / "rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "row,outcome,code,message,record_id,table,data"
    assert len(rejected) > 1
    assert "qobra" in done.stdout.splitlines()[1]  # normalize printed the qobra sample's job
