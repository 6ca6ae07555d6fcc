"""Meta-tests: what exists is documented and tested (datasette-style).

Every hook specification is described in docs/plugins.md and used by some test; every
subcommand, option and exit code of the command is in docs/cli.md; every error is in
docs/errors.md.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from importbridge import errors, hookspecs
from importbridge.cli.app import build_parser
from importbridge.cli.commands import COMMANDS
from importbridge.cli.exits import ExitCode

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TESTS = ROOT / "tests"


def hook_specs() -> list[str]:
    return sorted(
        name
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if getattr(function, f"{hookspecs.PROJECT}_spec", None) is not None
    )


def test_there_are_hooks_to_check() -> None:
    assert "importbridge_register_providers" in hook_specs()


@pytest.mark.parametrize("hook", hook_specs())
def test_every_hook_is_documented(hook: str) -> None:
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    assert f"`{hook}" in text, f"docs/plugins.md does not describe {hook}"


@pytest.mark.parametrize("hook", hook_specs())
def test_every_hook_is_exercised_by_a_test(hook: str) -> None:
    users = [
        path for path in TESTS.rglob("*.py")
        if "meta" not in path.relative_to(TESTS).parts and hook in path.read_text(encoding="utf-8")
    ]
    assert users, f"no test outside tests/meta uses {hook}"


def cli_doc() -> str:
    return (DOCS / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [command.name for command in COMMANDS])
def test_every_subcommand_has_a_section(command: str) -> None:
    assert f"## `importbridge {command}`" in cli_doc()


def options_of(command: str) -> list[str]:
    parser = build_parser(command)
    return sorted(
        option
        for action in parser.commands[command]._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    )


@pytest.mark.parametrize("command", [command.name for command in COMMANDS])
def test_every_option_is_documented_in_its_section(command: str) -> None:
    text = cli_doc()
    start = text.index(f"## `importbridge {command}`")
    end = text.find("\n## ", start + 1)
    section = text[start:] if end == -1 else text[start:end]
    missing = [option for option in options_of(command) if option not in section]
    assert not missing, f"docs/cli.md, importbridge {command}: options not documented: {missing}"


def test_every_exit_code_is_documented() -> None:
    rows = set(re.findall(r"^\| (\d+) \|", cli_doc(), flags=re.MULTILINE))
    assert rows == {str(int(code)) for code in ExitCode}


@pytest.mark.parametrize("error", errors.__all__)
def test_every_error_is_in_the_error_reference(error: str) -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    assert f"| `{error}` |" in text, f"docs/errors.md has no row for {error}"


def test_ci_fuzzes_every_built_in_provider_with_ten_thousand_payloads() -> None:
    # issue 9: the payload fuzzer runs in CI with at least 10,000 examples per provider
    from importbridge.testing.conformance import ENV_FUZZ_EXAMPLES, ProviderConformance

    assert ENV_FUZZ_EXAMPLES not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ProviderConformance.fuzz_examples >= 10_000
    suites = sorted((TESTS / "providers").glob("*/test_conformance.py"))
    folders = (TESTS / "providers").iterdir()
    providers = sorted(path.name for path in folders if (path / "__init__.py").is_file())
    assert providers
    assert [path.parent.name for path in suites] == providers, "a provider without the conformance suite"
    for path in suites:
        text = path.read_text(encoding="utf-8")
        assert "(ProviderConformance)" in text
        assert "fuzz_examples" not in text, f"{path} lowers its budget"
        assert "fuzz_shares" not in text, f"{path} lowers its budget"
