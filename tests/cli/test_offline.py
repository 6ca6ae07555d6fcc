"""The command's offline parts: help, providers, normalize, usage errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import importbridge
from importbridge.cli.commands import COMMANDS
from importbridge.cli.exits import ExitCode, exit_code_for_state

from .conftest import CONTRACT_KEYS, run_cli

BUILT_IN = ("micro", "qobra", "talkvalue")


def test_top_level_help_lists_every_command_and_exit_code() -> None:
    result = run_cli("--help")
    assert result.code == 0
    for command in COMMANDS:
        assert command.name in result.out
    for code in ExitCode:
        assert f"  {int(code)}  " in result.out


@pytest.mark.parametrize("name", [command.name for command in COMMANDS])
def test_every_subcommand_has_help(name: str) -> None:
    result = run_cli(name, "--help")
    assert result.code == 0, result.err
    assert result.out.startswith(f"usage: importbridge {name}")


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"importbridge {importbridge.__version__}"


def test_providers_table_and_json() -> None:
    table = run_cli("providers")
    assert table.code == 0, table.err
    for name in BUILT_IN:
        assert name in table.out
    documents = run_cli("providers", "--json").json_lines()
    assert [doc["name"] for doc in documents] == sorted(BUILT_IN)
    for doc in documents:
        assert set(doc) == {"name", "version", "distribution", "plugin", "capabilities", "settings", "error"}
        assert doc["error"] is None
        assert "client" in doc["capabilities"]
        assert all(setting["env"] for setting in doc["settings"])


def test_providers_honours_the_plugin_selection() -> None:
    from .conftest import clean_env

    documents = run_cli("providers", "--json", env=clean_env({"IMPORTBRIDGE_PLUGINS": "qobra"})).json_lines()
    assert [doc["name"] for doc in documents] == ["qobra"]


def samples() -> list[tuple[str, int, object]]:
    return [
        (name, index, payload)
        for name in BUILT_IN
        for index, payload in enumerate(importbridge.get_provider(name).sample_payloads())
    ]


@pytest.mark.parametrize(("provider", "index", "payload"), samples(), ids=lambda v: str(v)[:20])
def test_normalize_prints_the_contract_and_exits_by_state(
    provider: str, index: int, payload: object, tmp_path: Path
) -> None:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    expected = importbridge.normalize(provider, payload)
    result = run_cli("normalize", provider, str(path), "--json")
    assert result.code == exit_code_for_state(expected.state.value), result.err
    document = result.json()
    assert set(document) == CONTRACT_KEYS
    assert importbridge.from_dict(document) == expected
    if index == 0:  # the readable view once per provider (each run is a fresh interpreter)
        readable = run_cli("normalize", provider, str(path))
        assert readable.code == result.code
        assert expected.state.value in readable.out


def test_normalize_reads_stdin() -> None:
    payload = importbridge.get_provider("micro").sample_payloads()[0]
    result = run_cli("normalize", "micro", "-", "--json", stdin=json.dumps(payload))
    assert result.json()["provider"] == "micro"


def test_exit_codes_cover_complete_partial_and_failed() -> None:
    states = {importbridge.normalize(p, payload).state.value for p, _, payload in samples()}
    assert {"complete", "partial", "failed"} <= states


@pytest.mark.parametrize(
    ("args", "stdin", "code", "words"),
    [
        (("normalize", "nosuch", "-"), "{}", 2, ("unknown provider 'nosuch'", "micro")),
        (("normalize", "micro", "/nonexistent/payload.json"), None, 2, ("cannot read", "payload.json")),
        (("normalize", "micro", "-"), "{not json", 2, ("micro payload", "not JSON")),
        (("normalize", "qobra", "-"), '{"data_import": {"status": "exploded"}}', 2, ("qobra payload",)),
        (("normalize",), None, 2, ("required",)),
        (("frobnicate",), None, 2, ("invalid choice",)),
        (("wait", "micro", "x", "--timeout", "soon"), None, 2, ("--timeout",)),
        (("wait", "micro", "x", "--timeout", "-1"), None, 2, ("--timeout", ">= 0")),
        (("wait", "micro", " "), None, 2, ("empty JOB_ID|TOKEN",)),
        (("resume", "ib1.x.xxxxxxxx", "--timeout", "nan"), None, 2, ("--timeout",)),
        (("submit", "micro", "x.csv", "--wait", "--timeout", "-5"), None, 2, ("--timeout", ">= 0")),
        (("resume", "ib1.garbage.xxxxxxxx"), None, 2, ("token",)),
        (("failed-rows", "micro", "1", "--format", "xml"), None, 2, ("--format",)),
    ],
)
def test_bad_input_is_one_line_and_a_usage_error(
    args: tuple[str, ...], stdin: str | None, code: int, words: tuple[str, ...]
) -> None:
    run_cli(*args, stdin=stdin).assert_one_line_error(code, *words)


@pytest.mark.parametrize("command", ["get", "wait", "failed-rows"])
def test_missing_credentials_are_a_configuration_error(command: str) -> None:
    result = run_cli(command, "micro", "some-job")
    result.assert_one_line_error(5, "MICRO_API_KEY")


def test_submit_with_an_unreadable_file(tmp_path: Path) -> None:
    run_cli("submit", "micro", str(tmp_path / "missing.csv")).assert_one_line_error(2, "cannot read")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a"}\n[1, 2]\n', encoding="utf-8")
    run_cli("submit", "micro", str(bad)).assert_one_line_error(2, "line 2", "not a JSON object")


def test_provider_flags_need_a_value() -> None:
    run_cli("submit", "micro", "x.csv", "--dedupe-by").assert_one_line_error(2, "--dedupe-by", "value")
    run_cli("submit", "micro", "x.csv", "-o", "novalue").assert_one_line_error(2, "KEY=VALUE")


def test_the_console_script_is_the_same_command() -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    script = shutil.which("importbridge", path=str(Path(sys.executable).parent))
    assert script is not None, "the importbridge console script is not installed beside this Python"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, f"importbridge {importbridge.__version__}")
