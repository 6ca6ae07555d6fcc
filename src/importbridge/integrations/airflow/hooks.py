"""Airflow connections to importbridge providers, and the hook that turns one into a client.

A connection of type ``importbridge_<provider>`` holds the provider's declared settings:
``host`` is the ``base_url``, ``password`` its first secret setting (masked by Airflow), and
``extra`` (JSON) every other setting by name, plus ``token_key`` to sign resume tokens (an
extra whose name holds "token" is masked too). A setting the connection leaves out resolves as
for ``importbridge.connect`` (its environment variable, else its default), so give the worker and
the triggerer the same connection and the trigger builds the client the task did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from importbridge import ImportClient, connect, get_provider
from importbridge.aio import AsyncImportClient
from importbridge.aio import connect as aconnect
from importbridge.errors import ConfigurationError

from .provider_info import CONN_TYPE_PREFIX, client_providers, connection_type, hook_class_name

TOKEN_KEY = "token_key"


class ImportBridgeHook(BaseHook):
    """An importbridge client for an Airflow connection id (of any ``importbridge_*`` type)."""

    conn_name_attr = "conn_id"
    default_conn_name = "importbridge_default"
    conn_type = "importbridge"
    hook_name = "importbridge"

    def __init__(self, conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.conn_id = conn_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.conn_id}>"

    def client_options(self, conn: Any) -> tuple[str, dict[str, Any]]:
        """The provider's name and ``connect`` keywords a connection holds."""
        conn_type = conn.conn_type or ""
        if not conn_type.startswith(CONN_TYPE_PREFIX):
            raise ConfigurationError(
                f"Airflow connection {self.conn_id!r} is of type {conn_type!r}, not an importbridge one "
                f"(importbridge_<provider>: {', '.join(map(connection_type, client_providers()))})"
            )
        provider = get_provider(conn_type[len(CONN_TYPE_PREFIX):])  # UnknownProviderError names it
        try:
            extra = json.loads(conn.extra) if conn.extra else {}
        except ValueError:
            raise ConfigurationError(f"Airflow connection {self.conn_id!r}: extra is not JSON") from None
        if not isinstance(extra, dict):
            raise ConfigurationError(f"Airflow connection {self.conn_id!r}: extra must be a JSON object")
        declared = {setting.name for setting in provider.settings}
        unknown = sorted(set(extra) - declared - {TOKEN_KEY})
        if unknown:
            raise ConfigurationError(
                f"Airflow connection {self.conn_id!r}: extra names {', '.join(unknown)}, which "
                f"{provider.name} does not declare (only {', '.join(sorted(declared))})"
            )
        options: dict[str, Any] = {key: str(value) for key, value in extra.items()}
        if conn.host:
            options["base_url"] = conn.host
        secrets = [setting.name for setting in provider.settings if setting.secret]
        if conn.password and secrets:
            options[secrets[0]] = conn.password
        return provider.name, options

    def get_conn(self) -> ImportClient:
        """A sync client (close it, or use it in a ``with``)."""
        try:
            conn = self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            raise self._missing() from None
        provider, options = self.client_options(conn)
        return connect(provider, **options)

    async def get_async_conn(self) -> AsyncImportClient:
        """An async client, the connection read without blocking the loop (close it when done)."""
        try:
            conn = await self.aget_connection(self.conn_id)
        except AirflowNotFoundException:
            raise self._missing() from None
        provider, options = self.client_options(conn)
        return await self._make(provider, options)

    @contextlib.asynccontextmanager
    async def shared_async_conn(self) -> AsyncIterator[AsyncImportClient]:
        """An async client shared by every trigger of this event loop on the same connection
        settings: one session and connection pool for a thousand waits, closed by the last user."""
        try:
            conn = await self.aget_connection(self.conn_id)
        except AirflowNotFoundException:
            raise self._missing() from None
        provider, options = self.client_options(conn)
        shared = _SHARED.setdefault(asyncio.get_running_loop(), {})
        key = (provider, tuple(sorted(options.items())))
        if key not in shared:
            shared[key] = _Shared(asyncio.ensure_future(self._make(provider, options)))
        entry = shared[key]
        entry.users += 1
        try:
            yield await asyncio.shield(entry.client)
        finally:
            entry.users -= 1
            if entry.users == 0:
                del shared[key]
                if entry.client.done() and not entry.client.cancelled() and entry.client.exception() is None:
                    await entry.client.result().close()

    @staticmethod
    async def _make(provider: str, options: dict[str, Any]) -> AsyncImportClient:
        async def make() -> AsyncImportClient:
            return await aconnect(provider, **options)

        # built in a worker thread: making a client can load a CA bundle (REQUESTS_CA_BUNDLE),
        # tens of milliseconds that would hold the triggerer's loop; its session opens on first use
        return await asyncio.to_thread(asyncio.run, make())

    def _missing(self) -> ConfigurationError:
        return ConfigurationError(f"Airflow connection {self.conn_id!r} is not defined")


class _Shared:
    """One shared client (being made, or made) and how many triggers use it."""

    def __init__(self, client: asyncio.Future[AsyncImportClient]) -> None:
        self.client = client
        self.users = 0


#: per event loop, the shared clients by (provider, settings)
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, _Shared]] = (
    weakref.WeakKeyDictionary()
)


@cache
def _hook_for(provider: str) -> type[ImportBridgeHook]:
    """The hook class of ``provider``'s connection type, its form labelled from the settings."""
    adapter = get_provider(provider)
    secrets = [setting.name for setting in adapter.settings if setting.secret]
    others = {
        setting.name: setting.default or setting.help or ""
        for setting in adapter.settings
        if setting.name != "base_url" and not (secrets and setting.name == secrets[0])
    }

    def get_ui_field_behaviour(cls: type[ImportBridgeHook]) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port", "login"],
            "relabeling": {"host": "base_url", **({"password": secrets[0]} if secrets else {})},
            "placeholders": {"host": next(
                (s.default or "" for s in adapter.settings if s.name == "base_url"), ""),
                "extra": json.dumps({**others, TOKEN_KEY: "signs resume tokens (optional)"})},
        }

    return type(hook_class_name(provider), (ImportBridgeHook,), {
        "__doc__": f"An importbridge client for a {provider} connection.",
        "__module__": __name__,
        "conn_type": connection_type(provider),
        "hook_name": f"importbridge: {provider}",
        "get_ui_field_behaviour": classmethod(get_ui_field_behaviour),
    })


def __getattr__(name: str) -> type[ImportBridgeHook]:
    """``Hook_<provider>``: the generated hook classes named by ``get_provider_info``."""
    for provider in client_providers():
        if name == hook_class_name(provider):
            return _hook_for(provider)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
