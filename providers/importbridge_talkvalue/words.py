"""TalkValue's status words and the ``JobState`` each maps to, before the counts settle a terminal one.

Apart from ``normalize`` so that the provider class can name them without loading the payload
reader, and with it the model (``connect()`` needs the class, not the reader).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from importbridge import JobState

__all__ = ["STATUS_WORDS"]

STATUS_WORDS: Mapping[str, JobState] = MappingProxyType(
    {
        "PENDING": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        "COMPLETED": JobState.COMPLETE,
        "PARTIAL_SUCCESS": JobState.PARTIAL,
        "FAILED": JobState.FAILED,
    }
)
