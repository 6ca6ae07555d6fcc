"""The Micro provider: what it is called, how to reach it, and where each ability lives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
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


class MicroProvider(importbridge.Provider):
    """Micro Prism imports: ``POST /v2/prism/{teamId}/{objectType}/import`` and its jobs."""

    name = "micro"
    capabilities = frozenset(
        {Capability.NORMALIZE, Capability.CLIENT, Capability.SANDBOX, Capability.IDEMPOTENT_SUBMIT}
    )
    settings = (
        Setting(name="api_key", env="MICRO_API_KEY", secret=True, help="API key (x-api-key)"),
        Setting(name="base_url", env="MICRO_BASE_URL", default="https://developers.micro.so"),
        Setting(name="team_id", env="MICRO_TEAM_ID", context=True, help="team the imports belong to"),
    )
    retention = timedelta(days=7)
    rate_limit = 10.0
    batch_size = 1000
    status_words: ClassVar[Mapping[str, JobState]] = STATUS_WORDS

    def normalize(self, payload: Any) -> ImportJob:
        return _normalize.normalize(payload)

    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return _normalize.ROW_ARRAYS

    def sample_payloads(self) -> Sequence[Any]:
        return _normalize.SAMPLES

    def auth_headers(self, settings: Mapping[str, str]) -> dict[str, str]:
        """Micro authenticates with ``x-api-key``."""
        return {"x-api-key": settings["api_key"]}

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
