"""A CA bundle from the environment is read once per file, not once per async client.

Reading one takes tens of milliseconds, on the event loop of whoever makes a client; a service
making a client per task would spend that each time (see ``aioengine.bundle_context``).
"""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import certifi
import pytest

from importbridge import ConfigurationError, aioengine
from importbridge.plugins import get_provider
from importbridge.settings import resolve


def _transport(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> aioengine.AsyncTransport:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    provider = get_provider("micro")
    settings = resolve(provider, {"api_key": "k-secret", "team_id": "t1", "base_url": "https://127.0.0.1:1"})
    return aioengine.AsyncTransport(provider, settings)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.pem"
    shutil.copyfile(certifi.where(), path)
    return path


def test_transports_share_the_context_of_one_bundle(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _transport(bundle, monkeypatch)._ssl
    second = _transport(bundle, monkeypatch)._ssl
    assert isinstance(first, ssl.SSLContext)
    assert second is first
    assert first.verify_mode is ssl.CERT_REQUIRED
    assert first.check_hostname
    assert first.cert_store_stats()["x509_ca"] > 0


def test_a_bundle_rewritten_in_place_is_read_again(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _transport(bundle, monkeypatch)._ssl
    text = bundle.read_text()
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----\n")
    bundle.write_text(text[start:end])  # one certificate left: another file now
    after = _transport(bundle, monkeypatch)._ssl
    assert isinstance(before, ssl.SSLContext)
    assert isinstance(after, ssl.SSLContext)
    assert after is not before
    assert after.cert_store_stats()["x509_ca"] == 1


def test_an_unreadable_bundle_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ConfigurationError, match=r"nowhere\.pem") as caught:
        _transport(missing, monkeypatch)
    assert "k-secret" not in str(caught.value)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigurationError, match=r"garbage\.pem"):
        _transport(garbage, monkeypatch)
