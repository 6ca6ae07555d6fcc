"""The Qobra provider: what it is called, how to reach it, and where each ability lives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import importbridge
from importbridge import Capability, JobState, Setting

from .words import STATUS_WORDS

if TYPE_CHECKING:
    from importbridge import ImportJob
    from importbridge.flows import Flow, FlowContext

    from . import normalize as _normalize
else:
    _normalize = importbridge.lazy_module(".normalize", __package__)  # connect() needs none of it


class QobraProvider(importbridge.Provider):
    """Qobra data imports: ``POST /v1/tables/{key}/records/bulk`` and ``GET /v1/imports/{id}``."""

    name = "qobra"
    capabilities = frozenset({Capability.NORMALIZE, Capability.CLIENT, Capability.SANDBOX})
    settings = (
        Setting(name="api_key", env="QOBRA_API_KEY", secret=True, help="API key (X-API-Key)"),
        Setting(name="base_url", env="QOBRA_BASE_URL", default="https://api.qobra.co/v1"),
    )
    batch_size = 5000
    status_words: ClassVar[Mapping[str, JobState]] = STATUS_WORDS

    def normalize(self, payload: Any) -> ImportJob:
        return _normalize.normalize(payload)

    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return _normalize.ROW_ARRAYS

    def sample_payloads(self) -> Sequence[Any]:
        return _normalize.SAMPLES

    def auth_headers(self, settings: Mapping[str, str]) -> dict[str, str]:
        """Qobra authenticates with ``X-API-Key``."""
        return {"X-API-Key": settings["api_key"]}

    def error_message(self, status: int, body: Any) -> tuple[str, str | None]:
        from . import api

        return api.error_message(status, body)

    def submit_flow(
        self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> Flow[ImportJob]:
        from . import api

        return api.submit_flow(self, ctx, records, options)

    def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
        from . import api

        return api.get_flow(self, ctx, job_id, context)

    def failed_rows_flow(self, ctx: FlowContext, job: ImportJob) -> Flow[None]:
        from . import api

        return api.failed_rows_flow(self, ctx, job)
