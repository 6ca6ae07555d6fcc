"""The example third-party plugin (docs/examples/importbridge-acme) works as the tutorial says.

It is built and installed for real with pip (into a temporary ``--target`` directory, offline,
with the hatchling already in this environment), then used from fresh interpreters that have
that directory on ``PYTHONPATH``: importbridge discovers it through its entry point, it
normalizes, and its own test suite, which runs importbridge's conformance suite, passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import importbridge
from importbridge.testing import ProviderConformance

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "importbridge-acme"
# The example is a docs example, not a built-in: a lighter fuzz budget keeps this test quick.
FUZZ_EXAMPLES = "2000"


def _env(site: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMPORTBRIDGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    return target


def test_it_is_not_there_until_installed() -> None:
    assert "acme" not in {info.name for info in importbridge.providers()}


def test_it_is_installed_as_a_distribution_with_an_entry_point(site: Path) -> None:
    [dist_info] = site.glob("importbridge_acme-*.dist-info")
    assert dist_info.name == "importbridge_acme-1.0.0.dist-info"
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert "[importbridge]" in entry_points
    assert "acme = importbridge_acme.plugin" in entry_points
    assert (site / "importbridge_acme" / "normalize.py").is_file()


def test_it_is_discovered_through_its_entry_point_and_normalizes(site: Path) -> None:
    code = """
import json, warnings
from importlib.metadata import entry_points
import importbridge
from importbridge_acme.normalize import SAMPLES

warnings.simplefilter("error")  # the example must load cleanly
[info] = [info for info in importbridge.providers() if info.name == "acme"]
[ep] = [ep for ep in entry_points(group="importbridge") if ep.name == "acme"]
job = importbridge.normalize("acme", json.dumps(SAMPLES[3]).encode())
print(json.dumps({
    "info": [info.name, info.distribution, info.version, info.plugin, info.ok, list(info.capabilities)],
    "entry_point": [ep.value, ep.dist.metadata["Name"]],
    "job": importbridge.to_dict(job),
    "module": importbridge.get_provider("acme").__module__,
}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(site), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["info"][:5] == ["acme", "importbridge-acme", "1.0.0", "acme", True]
    assert sorted(out["info"][5]) == ["client", "idempotent_submit", "normalize", "sandbox"]
    assert out["entry_point"] == ["importbridge_acme.plugin", "importbridge-acme"]
    assert out["module"] == "importbridge_acme.provider"
    job = out["job"]
    assert (job["provider"], job["id"], job["state"], job["provider_state"]) == (
        "acme",
        "ld_01HX4",
        "partial",
        "DONE_WITH_ERRORS",
    )
    assert (job["succeeded"], job["failed"], job["rows"][0]["row"]) == (2, 1, 2)


def test_it_passes_its_own_tests_and_the_conformance_suite(site: Path, tmp_path: Path) -> None:
    # Run a copy of the example's tests so nothing is written into the repository; the code
    # under test is the installed copy in ``site``, not the example's source tree.
    shutil.copytree(EXAMPLE / "tests", tmp_path / "tests")
    shutil.copy(EXAMPLE / "pyproject.toml", tmp_path / "pyproject.toml")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "tests"],
        cwd=tmp_path,
        env=_env(site, IMPORTBRIDGE_FUZZ_EXAMPLES=FUZZ_EXAMPLES),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if line.startswith("PASSED")]
    conformance = [line for line in passed if "TestAcmeConformance::" in line]
    assert any("test_fuzz_wrong_numbers" in line for line in conformance), result.stdout
    checks = [name for name in dir(ProviderConformance) if name.startswith("test_")]
    assert len(conformance) == len(checks)
    flows = [line for line in passed if "TestAcmeFlows::" in line]
    assert any("test_flows_streamed" not in line and "round_trip" in line for line in flows), result.stdout
    assert any("test_the_rejections_are_read_to_the_last_page" in line for line in passed)
    # the one check that may skip: Acme's rejections are pages of JSON, not a streamed body
    assert "1 skipped" in result.stdout.splitlines()[-1] or "skipped" not in result.stdout.splitlines()[-1]
