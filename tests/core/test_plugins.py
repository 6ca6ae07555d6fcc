"""Plugin discovery: lazy, guarded, selectable, conflict-aware; in-process registration.

Third-party plugins here are real: each test writes throwaway distributions (a ``*.dist-info``
folder with ``METADATA`` and ``entry_points.txt``, plus the plugin module) into a temporary
directory and runs a fresh interpreter with that directory on ``PYTHONPATH``, so
``importlib.metadata`` finds their entry points exactly as it finds an installed package's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import pytest

import importbridge
from importbridge import (
    InvalidPluginError,
    JobState,
    PayloadError,
    PluginConflictError,
    Provider,
    UnknownProviderError,
)

BUILTINS = ("micro", "qobra", "talkvalue")

GOOD_PLUGIN = """
import importbridge

class {cls}(importbridge.Provider):
    name = {name!r}
    status_words = {{"ok": importbridge.JobState.COMPLETE}}

    def normalize(self, payload):
        if not isinstance(payload, dict) or payload.get("status") != "ok":
            raise importbridge.PayloadError({name!r}, "status", "expected 'ok'")
        return importbridge.ImportJob(
            provider={name!r}, state=importbridge.JobState.COMPLETE, provider_state="ok"
        )

@importbridge.hookimpl
def importbridge_register_providers(register):
    register({cls}())

@importbridge.hookimpl
def importbridge_register_simulators(register):
    register({name!r}, dict)
"""

PLUGINS = {
    "good_plugin": GOOD_PLUGIN.format(cls="Good", name="good"),
    "other_plugin": GOOD_PLUGIN.format(cls="Other", name="other"),
    "dup_one": GOOD_PLUGIN.format(cls="One", name="dup"),
    "dup_two": GOOD_PLUGIN.format(cls="Two", name="dup"),
    "broken_plugin": "raise ImportError('the vendor SDK is not installed')\n",
    "raising_plugin": textwrap.dedent("""
        import importbridge

        @importbridge.hookimpl
        def importbridge_register_providers(register):
            raise RuntimeError("hook exploded")
        """),
    "junk_plugin": textwrap.dedent("""
        import importbridge

        @importbridge.hookimpl
        def importbridge_register_providers(register):
            register(object())
        """),
    "typo_plugin": textwrap.dedent("""
        import importbridge

        @importbridge.hookimpl
        def importbridge_register_provider(register):  # misspelled hook
            pass
        """),
}

# distribution -> (version, {entry point name: module})
DISTRIBUTIONS = {
    "ib-good": ("1.2.3", {"good": "good_plugin"}),
    "ib-other": ("0.9", {"other": "other_plugin"}),
    "ib-broken": ("0.1", {"broken": "broken_plugin"}),
    "ib-raising": ("0.1", {"raising": "raising_plugin"}),
    "ib-junk": ("0.1", {"junk": "junk_plugin"}),
    "ib-typo": ("0.1", {"typo": "typo_plugin"}),
    "ib-dup-one": ("1.0", {"dup1": "dup_one"}),
    "ib-dup-two": ("2.0", {"dup2": "dup_two"}),
    "ib-same-name": ("3.0", {"good": "other_plugin"}),  # entry point named like ib-good's
}

HARNESS = """
import json, sys, warnings
warnings.simplefilter("always")
import importbridge

def report(**values):
    print(json.dumps(values, default=str))

def infos():
    return [
        {"name": i.name, "version": i.version, "distribution": i.distribution,
         "plugin": i.plugin, "ok": i.ok, "error": i.error, "capabilities": list(i.capabilities)}
        for i in importbridge.providers()
    ]
"""


def make_distribution(site: Path, name: str, dist_version: str, eps: dict[str, str]) -> None:
    """A minimal installed distribution: what pip leaves behind, without pip."""
    dist_info = site / f"{name.replace('-', '_')}-{dist_version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {dist_version}\n")
    lines = "".join(f"{ep} = {module}\n" for ep, module in eps.items())
    (dist_info / "entry_points.txt").write_text(f"[importbridge]\n{lines}")
    for module in eps.values():
        (site / f"{module}.py").write_text(PLUGINS[module])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugins")
    for name, (dist_version, eps) in DISTRIBUTIONS.items():
        if name != "ib-same-name":
            make_distribution(root / "", name, dist_version, eps)
    return root


@pytest.fixture(scope="module")
def same_name_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("same-name")
    for name in ("ib-good", "ib-same-name"):
        make_distribution(root, name, *DISTRIBUTIONS[name])
    return root


def run(site: Path | None, code: str, **env: str) -> dict[str, Any]:
    """Run ``code`` after HARNESS in a fresh interpreter; return what it ``report``ed."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IMPORTBRIDGE_")}
    if site is not None:
        environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environ.get("PYTHONPATH")]))
    environ.update(env)
    result = subprocess.run(
        [sys.executable, "-c", HARNESS + textwrap.dedent(code)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    reported: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return reported


# -- laziness -------------------------------------------------------------------------------------


def test_import_scans_nothing_and_first_lookup_loads(site: Path) -> None:
    out = run(
        site,
        """
        watched = ("pluggy", "importlib.metadata", "good_plugin", "importbridge_micro",
                   "importbridge.plugins")
        def loaded():
            return sorted(name for name in watched if name in sys.modules)
        at_import = loaded()
        importbridge.providers()
        report(at_import=at_import, after=loaded())
        """,
        IMPORTBRIDGE_PLUGINS="good",
    )
    assert out["at_import"] == []
    assert out["after"] == ["good_plugin", "importbridge.plugins", "importlib.metadata", "pluggy"]


def test_the_testing_package_is_cheap_for_every_pytest_session() -> None:
    """pytest loads ``importbridge.testing.pytest_plugin`` everywhere importbridge is installed."""
    out = run(
        None,
        """
        import importbridge.testing, importbridge.testing.pytest_plugin
        before = [name for name in ("hypothesis", "importbridge.testing.conformance") if name in sys.modules]
        importbridge.testing.ProviderConformance
        report(before=before, after="importbridge.testing.conformance" in sys.modules)
        """,
    )
    assert out == {"before": [], "after": True}


def test_every_hook_is_specified_documented_and_exercised() -> None:
    """Like datasette's meta-tests: a hook nobody documents or tests is a hook nobody can use."""
    from importbridge import hookspecs

    hooks = sorted(name for name in vars(hookspecs) if name.startswith("importbridge_"))
    assert hooks == ["importbridge_register_providers", "importbridge_register_simulators"]
    tutorial = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()
    this_module = Path(__file__).read_text()
    for hook in hooks:
        assert getattr(hookspecs, hook).__doc__, hook
        assert f"`{hook}(register)`" in tutorial, hook
        assert this_module.count(f"def {hook}(") >= 1, hook  # a throwaway plugin implements it


def test_the_testing_api_resolves() -> None:
    from importbridge import testing

    for name in testing.__all__:
        assert getattr(testing, name) is not None
    for name in testing.strategies.__all__:
        assert getattr(testing.strategies, name) is not None


# -- the built-ins are plugins like any other -----------------------------------------------------


def test_builtins_are_entry_points_of_the_importbridge_distribution() -> None:
    found = {ep.name: ep for ep in entry_points(group="importbridge") if ep.name in BUILTINS}
    assert sorted(found) == sorted(BUILTINS)
    for name, ep in found.items():
        assert ep.value == f"importbridge_{name}.plugin"
        assert ep.dist is not None
        assert ep.dist.metadata["Name"] == "importbridge"


def test_builtins_are_discovered_with_distribution_and_version() -> None:
    out = run(None, "report(infos=infos())", IMPORTBRIDGE_PLUGINS=",".join(BUILTINS))
    by_name = {info["name"]: info for info in out["infos"]}
    assert sorted(by_name) == sorted(BUILTINS)
    for name in BUILTINS:
        info = by_name[name]
        assert info["error"] is None, info
        assert (info["distribution"], info["version"], info["plugin"]) == (
            "importbridge",
            version("importbridge"),
            name,
        )
        assert "normalize" in info["capabilities"]


# -- guarded loading ------------------------------------------------------------------------------


def test_a_broken_plugin_is_reported_and_the_others_work(site: Path) -> None:
    out = run(
        site,
        """
        with warnings.catch_warnings(record=True) as caught:
            listed = infos()
        job = importbridge.normalize("good", b'{"status": "ok"}')
        report(infos=listed, warnings=[(w.category.__name__, str(w.message)) for w in caught],
               job=importbridge.to_dict(job))
        """,
        IMPORTBRIDGE_PLUGINS="good,broken,raising,junk,typo",
    )
    by_plugin = {info["plugin"]: info for info in out["infos"]}
    good = by_plugin["good"]
    assert (good["name"], good["ok"]) == ("good", True)
    assert (good["distribution"], good["version"]) == ("ib-good", "1.2.3")
    assert out["job"]["provider"] == "good"
    expected_errors = {
        "broken": "ImportError: the vendor SDK is not installed",
        "raising": "RuntimeError: hook exploded",
        "junk": "InvalidPluginError",
        "typo": "importbridge_register_provider",
    }
    for plugin, fragment in expected_errors.items():
        info = by_plugin[plugin]
        assert not info["ok"]
        assert fragment in info["error"], info
        assert info["distribution"] == f"ib-{plugin}"
    messages = [message for category, message in out["warnings"] if category == "RuntimeWarning"]
    assert len(messages) == len(expected_errors)
    assert any("'broken' from ib-broken failed to load" in message for message in messages)


@pytest.mark.parametrize("plugin", ["broken", "raising", "junk", "typo"])
def test_strict_mode_makes_a_broken_plugin_an_error(site: Path, plugin: str) -> None:
    out = run(
        site,
        """
        try:
            importbridge.providers()
        except importbridge.PluginLoadError as error:
            report(error=type(error).__name__, message=str(error), distribution=error.distribution)
        """,
        IMPORTBRIDGE_PLUGINS=f"good,{plugin}",
        IMPORTBRIDGE_STRICT_PLUGINS="1",
    )
    assert (out["error"], out["distribution"]) == ("PluginLoadError", f"ib-{plugin}")
    assert f"plugin '{plugin}' from ib-{plugin} failed to load" in out["message"]


def test_selection_loads_only_the_named_plugins(site: Path) -> None:
    out = run(
        site,
        """
        with warnings.catch_warnings(record=True) as caught:
            listed = infos()
        try:
            importbridge.get_provider("other")
        except importbridge.UnknownProviderError as error:
            unknown = str(error)
        report(infos=listed, warnings=len(caught), unknown=unknown,
               imported=sorted(m for m in sys.modules if m.endswith("_plugin")))
        """,
        IMPORTBRIDGE_PLUGINS=" good , ",
    )
    assert [(info["name"], info["ok"]) for info in out["infos"]] == [("good", True)]
    assert out["warnings"] == 0
    assert out["imported"] == ["good_plugin"]  # broken_plugin was never even imported
    assert out["unknown"] == "unknown provider 'other'; installed providers: good"


def test_selecting_micro_loads_micro_alone(site: Path) -> None:
    out = run(
        site,
        "report(plugins=sorted({i['plugin'] for i in infos()}), modules=sorted(m for m in sys.modules "
        "if m.endswith('_plugin') or m.startswith(('importbridge_qobra', 'importbridge_talkvalue'))))",
        IMPORTBRIDGE_PLUGINS="micro",
    )
    assert out == {"plugins": ["micro"], "modules": []}


def test_an_empty_selection_loads_nothing(site: Path) -> None:
    out = run(site, "report(infos=infos())", IMPORTBRIDGE_PLUGINS="")
    assert out["infos"] == []


# -- conflicts ------------------------------------------------------------------------------------


def test_two_plugins_claiming_one_name_is_an_error_naming_both(site: Path) -> None:
    out = run(
        site,
        """
        messages = []
        for attempt in range(2):  # the second lookup must fail the same way, not half-loaded
            try:
                importbridge.providers()
            except importbridge.PluginConflictError as error:
                messages.append((type(error).__name__, str(error), error.name))
        report(messages=messages)
        """,
        IMPORTBRIDGE_PLUGINS="good,dup1,dup2",
    )
    first, second = out["messages"]
    assert first == second
    kind, message, name = first
    assert (kind, name) == ("PluginConflictError", "dup")
    assert "distribution 'ib-dup-one'" in message
    assert "distribution 'ib-dup-two'" in message


def test_two_distributions_with_one_entry_point_name_conflict(same_name_site: Path) -> None:
    out = run(
        same_name_site,
        """
        try:
            importbridge.providers()
        except importbridge.PluginConflictError as error:
            report(message=str(error))
        """,
    )
    assert "distribution 'ib-good'" in out["message"]
    assert "distribution 'ib-same-name'" in out["message"]


def test_registering_over_a_plugin_names_its_distribution(site: Path) -> None:
    out = run(
        site,
        """
        class Impostor(importbridge.Provider):
            name = "good"
        try:
            importbridge.register(Impostor())
        except importbridge.PluginConflictError as error:
            message = str(error)
        importbridge.register(Impostor(), replace=True)
        report(message=message, now=type(importbridge.get_provider("good")).__name__)
        """,
        IMPORTBRIDGE_PLUGINS="good",
    )
    assert "distribution 'ib-good' (plugin 'good')" in out["message"]
    assert "in-process" in out["message"]
    assert out["now"] == "Impostor"


def test_collect_calls_a_register_hook_on_every_plugin(site: Path) -> None:
    out = run(
        site,
        """
        from importbridge import plugins
        collected = plugins.registry().collect("importbridge_register_simulators")
        report(collected={k: [list(map(str, r)) for r in v] for k, v in collected.items()})
        """,
        IMPORTBRIDGE_PLUGINS="good,other",
    )
    assert out["collected"] == {
        "good": [["good", "<class 'dict'>"]],
        "other": [["other", "<class 'dict'>"]],
    }


# -- in-process registration ----------------------------------------------------------------------


class Notebook(Provider):
    """A provider someone defines in a notebook and registers for this session."""

    name = "notebook-test"
    status_words = {"ok": JobState.COMPLETE}  # noqa: RUF012 (a class-level table, as in Provider)

    def normalize(self, payload: Any) -> importbridge.ImportJob:
        if payload != {"status": "ok"}:
            raise PayloadError(self.name, "status", "expected 'ok'")
        return importbridge.ImportJob(provider=self.name, state=JobState.COMPLETE, provider_state="ok")


@pytest.fixture
def notebook() -> Any:
    provider = Notebook()
    importbridge.register(provider)
    yield provider
    importbridge.plugins.registry().unregister(provider.name)


def test_register_in_process(notebook: Notebook) -> None:
    assert importbridge.get_provider("notebook-test") is notebook
    assert importbridge.get_provider(notebook) is notebook
    [info] = [info for info in importbridge.providers() if info.name == "notebook-test"]
    assert (info.distribution, info.plugin, info.ok) == ("<in-process>", "<in-process>", True)
    with pytest.raises(PluginConflictError, match="an in-process registration"):
        importbridge.register(Notebook())
    replacement = Notebook()
    importbridge.register(replacement, replace=True)
    assert importbridge.get_provider("notebook-test") is replacement


def test_normalize_decodes_text_and_bytes(notebook: Notebook) -> None:
    expected = importbridge.normalize("notebook-test", {"status": "ok"})
    assert importbridge.normalize("notebook-test", '{"status": "ok"}') == expected
    assert importbridge.normalize("notebook-test", b'{"status": "ok"}') == expected
    assert importbridge.normalize("notebook-test", memoryview(b'{"status": "ok"}')) == expected
    bad_inputs = [
        (b"\xff{}", "not UTF-8"),
        ("{", "not JSON"),
        ("[" * 100_000, "not JSON"),
        ('{"status": NaN}', "NaN is not a JSON value"),
        (b"[-Infinity]", "-Infinity is not a JSON value"),
    ]
    for bad, reason in bad_inputs:
        with pytest.raises(PayloadError, match=reason) as info:
            importbridge.normalize("notebook-test", bad)
        assert info.value.provider == "notebook-test"


@pytest.mark.parametrize(
    "bad",
    [object(), Notebook, "notebook", None],
    ids=["object", "class-not-instance", "string", "none"],
)
def test_registering_something_that_is_not_a_provider(bad: Any) -> None:
    with pytest.raises(InvalidPluginError, match=r"not an importbridge\.Provider"):
        importbridge.register(bad)


@pytest.mark.parametrize("name", ["", "Upper", "has space", "9starts-with-digit", "x" * 65, "dots.no"])
def test_registering_a_provider_with_an_invalid_name(name: str) -> None:
    provider = type("Named", (Notebook,), {"name": name})()
    with pytest.raises(InvalidPluginError, match="invalid name"):
        importbridge.register(provider)


def test_unknown_provider_lists_the_installed_ones(notebook: Notebook) -> None:
    with pytest.raises(UnknownProviderError) as info:
        importbridge.get_provider("no-such-provider")
    assert isinstance(info.value, LookupError)
    assert "notebook-test" in info.value.installed
    assert "installed providers: " in str(info.value)
    assert "notebook-test" in str(info.value)


def test_normalizing_a_builtin_scans_no_entry_point_and_loads_no_other_plugin() -> None:
    out = run(
        None,
        """
        job = importbridge.normalize("micro", '{"job_id": "a", "status": "processing", "total": 3}')
        loaded = sorted(name for name in ("importlib.metadata", "importbridge_qobra",
                        "importbridge_talkvalue") if name in sys.modules)
        names = [info.name for info in importbridge.providers()]  # the full discovery still works
        report(state=job.state.value, loaded=loaded, names=names)
        """,
    )
    assert out == {"state": "running", "loaded": [], "names": list(BUILTINS)}


def test_a_selection_without_the_builtin_is_respected_before_discovery() -> None:
    out = run(
        None,
        """
        try:
            importbridge.get_provider("micro")
        except importbridge.UnknownProviderError as error:
            report(error=str(error))
        """,
        IMPORTBRIDGE_PLUGINS="qobra",
    )
    assert "micro" in out["error"]
    assert "qobra" in out["error"]
