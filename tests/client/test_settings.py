"""Settings: argument > environment variable > default; missing ones name the variable; secrets redacted."""

from __future__ import annotations

import pytest

import importbridge
from importbridge import ConfigurationError
from importbridge.settings import resolve

from .support import CANARY, EchoProvider


def test_argument_beats_environment_beats_default(echo: EchoProvider) -> None:
    env = {"ECHO_API_KEY": "from-env", "ECHO_BASE_URL": "http://env.invalid"}
    assert dict(resolve(echo, {}, env)) == {"api_key": "from-env", "base_url": "http://env.invalid"}
    assert resolve(echo, {"api_key": "arg"}, env)["api_key"] == "arg"
    assert resolve(echo, {"api_key": "arg"}, {})["base_url"] == "https://echo.invalid"


def test_a_missing_credential_names_the_variable(echo: EchoProvider) -> None:
    with pytest.raises(ConfigurationError, match="ECHO_API_KEY"):
        resolve(echo, {}, {})
    with pytest.raises(ConfigurationError, match="ECHO_API_KEY"):
        resolve(echo, {}, {"ECHO_API_KEY": ""})  # blank counts as unset


def test_connect_reads_the_process_environment(echo: EchoProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHO_API_KEY", CANARY)
    monkeypatch.setenv("ECHO_BASE_URL", "http://127.0.0.1:9")
    with importbridge.connect(echo) as client:
        assert client.connection.settings["api_key"] == CANARY
        assert client.connection.settings["base_url"] == "http://127.0.0.1:9"
    monkeypatch.delenv("ECHO_API_KEY")
    with pytest.raises(ConfigurationError, match="set the environment variable ECHO_API_KEY"):
        importbridge.connect(echo)


def test_unknown_and_non_string_settings_are_refused(echo: EchoProvider) -> None:
    with pytest.raises(ConfigurationError, match="unknown setting"):
        resolve(echo, {"api_kee": "x"}, {"ECHO_API_KEY": "k"})
    with pytest.raises(ConfigurationError, match="must be a string"):
        resolve(echo, {"api_key": 42}, {})  # type: ignore[dict-item]


def test_secret_values_never_show(echo: EchoProvider) -> None:
    settings = resolve(echo, {"api_key": CANARY, "region": "eu"}, {})
    for text in (repr(settings), str(settings), repr(dict.fromkeys(settings))):
        assert CANARY not in text
    assert "eu" in repr(settings)
    assert settings.redact(f"key={CANARY}!") == "key=***!"


def test_unknown_provider_and_providers_without_a_client(echo: EchoProvider) -> None:
    with pytest.raises(importbridge.UnknownProviderError):
        importbridge.connect("no-such-provider")

    class NormalizeOnly(EchoProvider):
        capabilities = frozenset({importbridge.Capability.NORMALIZE})

    with pytest.raises(ConfigurationError, match="no client"):
        importbridge.connect(NormalizeOnly(), api_key="k")
