"""Checks the three providers' normalize tests share: how a payload is rejected, and how well.

Imported by the test modules of ``tests/providers/<name>/`` (pytest puts this folder on
``sys.path`` for them); each binds its provider name with ``functools.partial``.
"""

from __future__ import annotations

from typing import Any

import pytest

import importbridge
from importbridge import PayloadError


def rejected(provider: str, path: str, payload: Any) -> PayloadError:
    """Assert ``payload`` is rejected at exactly ``path``, naming ``provider``; return the error."""
    with pytest.raises(PayloadError) as caught:
        importbridge.get_provider(provider).normalize(payload)
    assert caught.value.provider == provider
    assert caught.value.path == path, str(caught.value)
    assert path in str(caught.value)
    return caught.value


def outcome(provider: str, payload: Any) -> importbridge.ImportJob | PayloadError:
    """What normalize makes of ``payload``: a job, or the PayloadError it raised (nothing else)."""
    try:
        return importbridge.get_provider(provider).normalize(payload)
    except PayloadError as exc:
        return exc


def assert_well_formed(provider: str, error: PayloadError) -> None:
    """The error names the provider, the path and a reason, in the documented message shape."""
    assert error.provider == provider
    assert error.reason
    assert str(error) == f"{provider} payload: {error.path or '<payload>'}: {error.reason}"
