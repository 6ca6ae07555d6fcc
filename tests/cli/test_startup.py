"""``import importbridge`` and ``importbridge --help`` stay light (no timing here: benchmarks/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("requests", "urllib3", "cattrs", "pluggy", "rich", "attrs", "attr", "importlib.metadata")

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in sys.modules if m in {heavy!r} or m.split('.')[0] in {heavy!r})))
"""

CLI = """
import contextlib, io
from importbridge.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({argv!r})
    except SystemExit as exit:
        assert exit.code == 0, exit.code
"""


def loaded(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: list[str] = json.loads(done.stdout)
    return result


def test_the_probe_sees_heavy_imports() -> None:
    assert "requests" in loaded("import requests")


def test_import_importbridge_loads_nothing_heavy() -> None:
    assert loaded("import importbridge") == []


@pytest.mark.parametrize("argv", [["--help"], ["submit", "--help"], ["wait", "--help"], ["--version"]])
def test_help_loads_nothing_heavy(argv: list[str]) -> None:
    assert loaded(CLI.format(argv=argv)) == []


def test_help_scans_no_entry_points() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "importbridge", "--help"],
                          capture_output=True, text=True, check=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "importbridge.cli" in imported
    assert not imported & {"importlib.metadata", "pluggy", "requests", "rich", "importbridge.plugins"}
