"""``importbridge.hookimpl`` marks exactly as pluggy's own marker does, without loading pluggy."""

from __future__ import annotations

from typing import Any

import pluggy
from hypothesis import given
from hypothesis import strategies as st

import importbridge
from importbridge import hookspecs
from importbridge.markers import PROJECT, HookimplMarker

OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "hookwrapper": st.booleans(),
        "optionalhook": st.booleans(),
        "tryfirst": st.booleans(),
        "trylast": st.booleans(),
        "specname": st.none() | st.text(max_size=20),
        "wrapper": st.booleans(),
    },
)


def _blank() -> Any:
    def importbridge_register_providers(register: Any) -> None:
        return None

    return importbridge_register_providers


@given(OPTIONS)
def test_the_mark_is_pluggys_mark(options: dict[str, Any]) -> None:
    ours, theirs = _blank(), _blank()
    importbridge.hookimpl(**options)(ours)
    pluggy.HookimplMarker(PROJECT)(**options)(theirs)
    assert ours.importbridge_impl == theirs.importbridge_impl


def test_bare_use_marks_like_pluggy_and_returns_the_function() -> None:
    ours, theirs = _blank(), _blank()
    assert importbridge.hookimpl(ours) is ours
    pluggy.HookimplMarker(PROJECT)(theirs)
    assert ours.importbridge_impl == theirs.importbridge_impl
    assert isinstance(importbridge.hookimpl, HookimplMarker)
    assert hookspecs.hookimpl is importbridge.hookimpl  # the old import path still works


def test_a_pluggy_manager_takes_the_mark_and_its_options() -> None:
    class Plugin:
        @staticmethod
        @importbridge.hookimpl(tryfirst=True)
        def importbridge_register_providers(register: Any) -> None:
            register("first")

        @staticmethod
        @importbridge.hookimpl(specname="importbridge_register_simulators")
        def simulators(register: Any) -> None:
            register("sim", dict)

    class Later:
        @staticmethod
        @importbridge.hookimpl
        def importbridge_register_providers(register: Any) -> None:
            register("second")

    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(Later(), name="later")
    manager.register(Plugin(), name="plugin")
    manager.check_pending()
    got: list[Any] = []
    manager.hook.importbridge_register_providers(register=got.append)
    assert got == ["first", "second"]  # tryfirst honoured whatever the registration order
    simulators = manager.hook.importbridge_register_simulators.get_hookimpls()
    assert [impl.plugin_name for impl in simulators] == ["plugin"]
