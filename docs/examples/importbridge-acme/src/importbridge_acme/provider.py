"""The Acme provider: its name, its status words, and where its payloads are read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import importbridge
from importbridge import ImportJob, JobState

from . import normalize as _normalize


class AcmeProvider(importbridge.Provider):
    """Acme bulk loads (``GET /v2/loads/{load_id}``): reads status payloads."""

    name = "acme"
    status_words: ClassVar[Mapping[str, JobState]] = _normalize.STATUS_WORDS

    def normalize(self, payload: Any) -> ImportJob:
        return _normalize.normalize(payload)

    def sample_payloads(self) -> Sequence[Any]:
        return _normalize.SAMPLES
