"""The async client's tests need the ``async`` extra (required in CI: IMPORTBRIDGE_REQUIRE_EXTRAS)."""

from __future__ import annotations

import os

import pytest

if not os.environ.get("IMPORTBRIDGE_REQUIRE_EXTRAS"):
    pytest.importorskip("aiohttp")
