"""The Acme provider: its name, settings, status words, and where each ability lives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import importbridge
from importbridge import Capability, ImportJob, JobState, Setting

from . import api
from . import normalize as _normalize

if TYPE_CHECKING:
    from importbridge.flows import Flow, FlowContext


class AcmeProvider(importbridge.Provider):
    """Acme bulk loads: ``POST /v2/loads``, then ``GET /v2/loads/{load_id}``."""

    name = "acme"
    capabilities = frozenset(
        {Capability.NORMALIZE, Capability.CLIENT, Capability.SANDBOX, Capability.IDEMPOTENT_SUBMIT}
    )
    settings = (
        Setting(name="api_key", env="ACME_API_KEY", secret=True, help="API token (Authorization: Bearer)"),
        Setting(name="base_url", env="ACME_BASE_URL", default="https://api.acme.example"),
    )
    retention = timedelta(days=30)
    rate_limit = 5.0
    batch_size = 500
    status_words: ClassVar[Mapping[str, JobState]] = _normalize.STATUS_WORDS

    def normalize(self, payload: Any) -> ImportJob:
        return _normalize.normalize(payload)

    def sample_payloads(self) -> Sequence[Any]:
        return _normalize.SAMPLES

    def auth_headers(self, settings: Mapping[str, str]) -> dict[str, str]:
        return api.auth_headers(settings)

    def error_message(self, status: int, body: Any) -> tuple[str, str | None]:
        return api.error_message(status, body)

    def submit_flow(
        self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> Flow[ImportJob]:
        return api.submit_flow(self, ctx, records, options)

    def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
        return api.get_flow(self, ctx, job_id, context)

    def failed_rows_flow(self, ctx: FlowContext, job: ImportJob) -> Flow[None]:
        return api.failed_rows_flow(self, ctx, job)

    def find_submit_flow(self, ctx: FlowContext, request_id: str) -> Flow[ImportJob | None]:
        return api.find_submit_flow(self, ctx, request_id)
