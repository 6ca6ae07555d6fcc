"""The sandbox subcommand as a real server, waiting on a token, and a plugin that fails to load."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import clean_env, run_cli, write_csv


def test_sandbox_command_prints_exports_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "importbridge", "sandbox", "--port", "0", "--seed", "3"]
    pipe = subprocess.PIPE
    process = subprocess.Popen(argv, stdout=pipe, stderr=pipe, text=True, env=clean_env())
    try:
        assert process.stdout is not None
        exports = [process.stdout.readline() for _ in range(7)]
        env = dict(line.removeprefix("export ").strip().split("=", 1) for line in exports)
        assert {"MICRO_BASE_URL", "MICRO_API_KEY", "MICRO_TEAM_ID", "QOBRA_BASE_URL", "QOBRA_API_KEY",
                "TALKVALUE_API_URL", "TALKVALUE_TOKEN"} == set(env)
        contacts = write_csv(tmp_path / "contacts.csv", ["email", "first_name"],
                             [["ada@example.com", "Ada"], ["not-an-email", "Bob"]])
        result = run_cli("submit", "talkvalue", str(contacts), "--source-id", "3", "--wait", "--json",
                         env=clean_env(env))
        assert result.code == 3, result.err
        assert result.json()["failed"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_wait_accepts_a_resume_token(cli: Any, tmp_path: Path) -> None:
    records = write_csv(tmp_path / "orgs.csv", ["name", "domain"],
                        [[f"Org {i}", f"org{i}.example.com"] for i in range(120)])
    submitted = cli("submit", "micro", str(records))
    token = submitted.err.rsplit("importbridge resume ", 1)[1].split()[0]
    result = cli("wait", "micro", token, "--json")
    assert result.code == 0, result.err
    assert (result.json()["state"], result.json()["succeeded"]) == ("complete", 120)


def broken_plugin(site: Path) -> Path:
    """A distribution on ``site`` whose ``importbridge`` entry point cannot be imported."""
    info = site / "brokenplug-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[importbridge]\nbroken = brokenplug_missing_module\n")
    return site


def test_providers_reports_a_plugin_that_failed_to_load(tmp_path: Path) -> None:
    env = clean_env({"PYTHONPATH": str(broken_plugin(tmp_path / "site"))})
    table = run_cli("providers", env=env)
    assert table.code == 5
    assert "brokenplug" in table.out
    assert "failed to load" in table.out
    assert "micro" in table.out  # the others keep working
    assert "Traceback" not in table.err
    documents = run_cli("providers", "--json", env=env).json_lines()
    failed = [doc for doc in documents if doc["error"]]
    assert [(doc["name"], doc["distribution"]) for doc in failed] == [("broken", "brokenplug")]
    assert "ModuleNotFoundError" in failed[0]["error"]
    strict = run_cli("providers", env={**env, "IMPORTBRIDGE_STRICT_PLUGINS": "1"})
    strict.assert_one_line_error(5, "broken", "brokenplug")


def test_sandbox_json_prints_one_document_with_its_settings() -> None:
    argv = [sys.executable, "-m", "importbridge", "sandbox", "--port", "0", "--json"]
    pipe = subprocess.PIPE
    process = subprocess.Popen(argv, stdout=pipe, stderr=pipe, text=True, env=clean_env())
    try:
        assert process.stdout is not None
        document = json.loads(process.stdout.readline())
        assert document["url"].startswith("http://127.0.0.1:")
        assert document["env"]["MICRO_BASE_URL"].startswith(document["url"])
        result = run_cli("providers", env=clean_env(document["env"]))
        assert result.code == 0, result.err
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
