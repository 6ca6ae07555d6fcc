"""The Airflow provider: registered through its entry point, one connection type per provider
with a client, generated from the declared settings; the hook reads only what they declare."""

from __future__ import annotations

import json

import pytest

import importbridge
from importbridge.errors import ConfigurationError
from importbridge.integrations.airflow import get_provider_info, hooks


def test_airflow_lists_the_provider_and_its_connection_types() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "importbridge" in ProvidersManager().providers  # what `airflow providers list` shows
    hooks_by_type = ProvidersManagerTaskRuntime().hooks
    types = {conn_type for conn_type in hooks_by_type if conn_type.startswith("importbridge_")}
    assert types == {"importbridge_micro", "importbridge_qobra", "importbridge_talkvalue"}


def test_connection_types_come_from_the_declared_settings() -> None:
    info = get_provider_info()
    assert [entry["connection-type"] for entry in info["connection-types"]] == [
        f"importbridge_{name}" for name in ("micro", "qobra", "talkvalue")
    ]
    for name in ("micro", "qobra", "talkvalue"):
        hook = getattr(hooks, f"Hook_{name}")
        assert hook.conn_type == f"importbridge_{name}"
        secret = next(s.name for s in importbridge.get_provider(name).settings if s.secret)
        assert hook.get_ui_field_behaviour()["relabeling"]["password"] == secret


def test_an_extra_naming_an_undeclared_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ODD", json.dumps({
        "conn_type": "importbridge_micro", "password": "k", "extra": json.dumps({"base_urll": "x"}),
    }))
    with pytest.raises(ConfigurationError, match="base_urll, which micro does not declare"):
        hooks.ImportBridgeHook("odd").get_conn()


def test_a_connection_of_another_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HTTP", json.dumps({"conn_type": "http", "host": "example.com"}))
    with pytest.raises(ConfigurationError, match="'http', not an importbridge one"):
        hooks.ImportBridgeHook("http").get_conn()
