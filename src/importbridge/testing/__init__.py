"""Tools for provider authors: the conformance suite and hypothesis strategies.

``from importbridge.testing import ProviderConformance`` and subclass it in a test module with
``provider = MyProvider()``; pytest then runs every conformance check against your provider.
``check_contract_rules(job, status_words)`` asserts the contract's rules on one job.
``importbridge.testing.strategies`` holds the hypothesis strategies the suite uses.
``FlowConformance`` checks a provider's flows (``play`` drives one against scripted
``Answer``s, no network; the round trip runs against the provider's simulator).

Names load on first use: pytest loads ``importbridge.testing.pytest_plugin`` in every session,
and that must not drag in hypothesis for projects that never use the suite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import strategies
    from .conformance import ProviderConformance, check_contract_rules
    from .flows import Answer, FlowConformance, play

__all__ = ["Answer", "FlowConformance", "ProviderConformance", "check_contract_rules", "play", "strategies"]

# public name -> (module, attribute of it; None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "ProviderConformance": (".conformance", "ProviderConformance"),
    "check_contract_rules": (".conformance", "check_contract_rules"),
    "FlowConformance": (".flows", "FlowConformance"),
    "Answer": (".flows", "Answer"),
    "play": (".flows", "play"),
    "strategies": (".strategies", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'importbridge.testing' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
