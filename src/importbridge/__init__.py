"""importbridge: submit bulk imports to SaaS providers, watch them, read one normalized outcome.

The public API is what ``__all__`` lists. Names load on first use (PEP 562), so
``import importbridge`` stays cheap and scans no entry points.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthenticationError,
    CheckpointError,
    ConfigurationError,
    ConflictError,
    ImportBridgeError,
    InputError,
    InvalidJobError,
    InvalidPluginError,
    JobExpired,
    JobNotFound,
    PayloadError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
    PollTimeout,
    ProviderError,
    RateLimited,
    ResponseTooLarge,
    StateRegression,
    SubmitOutcomeUnknown,
    TokenError,
    TransportError,
    UnknownProviderError,
    WaitError,
)

if TYPE_CHECKING:
    from .client import ImportClient, connect
    from .convert import from_dict, from_json, to_dict, to_json
    from .lazymodule import lazy_module
    from .longarrays import LongArray
    from .markers import hookimpl
    from .model import ImportJob, JobError, RowResult, TableImport
    from .plugins import ProviderInfo, get_provider, normalize, providers, register
    from .polling import PollPolicy, PollStep
    from .provider import Capability, Provider, Setting
    from .reading import PayloadReader
    from .resuming import resume, wait_all
    from .states import JobState, RowOutcome, settle_state
    from .transport import Connection, RetryPolicy, Transport

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # the model and its JSON shape
    "ImportJob": "model",
    "JobError": "model",
    "JobState": "states",
    "RowOutcome": "states",
    "RowResult": "model",
    "TableImport": "model",
    "settle_state": "states",
    "from_dict": "convert",
    "from_json": "convert",
    "to_dict": "convert",
    "to_json": "convert",
    # providers and plugins
    "Capability": "provider",
    "Provider": "provider",
    "Setting": "provider",
    "PayloadReader": "reading",
    "LongArray": "longarrays",
    "ProviderInfo": "plugins",
    "get_provider": "plugins",
    "hookimpl": "markers",
    "lazy_module": "lazymodule",
    "normalize": "plugins",
    "providers": "plugins",
    "register": "plugins",
    # talking to providers
    "Connection": "transport",
    "Transport": "transport",
    "RetryPolicy": "transport",
    "ImportClient": "client",
    "connect": "client",
    # waiting
    "PollPolicy": "polling",
    "PollStep": "polling",
    "resume": "resuming",
    "wait_all": "resuming",
}

__all__ = [
    "AuthenticationError",
    "Capability",
    "CheckpointError",
    "ConfigurationError",
    "ConflictError",
    "Connection",
    "ImportBridgeError",
    "ImportClient",
    "ImportJob",
    "InputError",
    "InvalidJobError",
    "InvalidPluginError",
    "JobError",
    "JobExpired",
    "JobNotFound",
    "JobState",
    "LongArray",
    "PayloadError",
    "PayloadReader",
    "PluginConflictError",
    "PluginError",
    "PluginLoadError",
    "PollPolicy",
    "PollStep",
    "PollTimeout",
    "Provider",
    "ProviderError",
    "ProviderInfo",
    "RateLimited",
    "ResponseTooLarge",
    "RetryPolicy",
    "RowOutcome",
    "RowResult",
    "Setting",
    "StateRegression",
    "SubmitOutcomeUnknown",
    "TableImport",
    "TokenError",
    "Transport",
    "TransportError",
    "UnknownProviderError",
    "WaitError",
    "__version__",
    "connect",
    "from_dict",
    "from_json",
    "get_provider",
    "hookimpl",
    "lazy_module",
    "normalize",
    "providers",
    "register",
    "resume",
    "settle_state",
    "to_dict",
    "to_json",
    "wait_all",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'importbridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
