"""What Airflow's ProvidersManager reads: the package, its connection types and its classes.

Connection types are generated, one per installed importbridge provider that can submit and
fetch imports (plugins included), so a new plugin appears in Airflow's connection form without
a line here.
"""

from __future__ import annotations

from typing import Any

from importbridge import Capability, __version__, get_provider, providers

PACKAGE = "importbridge.integrations.airflow"
CONN_TYPE_PREFIX = "importbridge_"


def connection_type(provider: str) -> str:
    """The Airflow connection type of an importbridge provider (``importbridge_micro``)."""
    return f"{CONN_TYPE_PREFIX}{provider}"


def client_providers() -> list[str]:
    """The installed providers with the client capability, by name."""
    return sorted(
        info.name for info in providers()
        if info.ok and Capability.CLIENT in get_provider(info.name).capabilities
    )


def get_provider_info() -> dict[str, Any]:
    """The ``apache_airflow_provider`` entry point's answer."""
    names = client_providers()
    return {
        "package-name": "importbridge",
        "name": "importbridge",
        "description": "Submit bulk imports to SaaS providers and wait for them without blocking a worker.",
        "versions": [__version__],
        "integrations": [{"integration-name": "importbridge", "tags": ["service"]}],
        "operators": [
            {"integration-name": "importbridge", "python-modules": [f"{PACKAGE}.operators"]}
        ],
        "sensors": [{"integration-name": "importbridge", "python-modules": [f"{PACKAGE}.sensors"]}],
        "triggers": [{"integration-name": "importbridge", "python-modules": [f"{PACKAGE}.triggers"]}],
        "hooks": [{"integration-name": "importbridge", "python-modules": [f"{PACKAGE}.hooks"]}],
        "connection-types": [
            {"hook-class-name": f"{PACKAGE}.hooks.{hook_class_name(name)}",
             "connection-type": connection_type(name)}
            for name in names
        ],
    }


def hook_class_name(provider: str) -> str:
    """The generated hook class of ``provider``'s connection type (``hooks.Hook_micro``)."""
    return f"Hook_{provider}"
