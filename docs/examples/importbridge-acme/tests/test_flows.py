"""Acme's flows pass importbridge's flow conformance suite, against scripted answers and
against Acme's own simulator (7 records, 4 rejected: more than the status carries inline, so
they are read from the rejections pages, 2 a page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from importbridge_acme import AcmeProvider

import importbridge
from importbridge.testing import Answer, FlowConformance, play

RECORDS = tuple(
    {"email": "nope" if line in (2, 4, 5, 6) else f"person{line}@example.com"} for line in range(1, 8)
)


class TestAcmeFlows(FlowConformance):
    provider = AcmeProvider()
    records: ClassVar[Sequence[Mapping[str, Any]]] = RECORDS
    bad_rows = frozenset({2, 4, 5, 6})
    submit_options: ClassVar[Mapping[str, Any]] = {"list": "newsletter"}


def test_the_rejections_are_read_to_the_last_page() -> None:
    provider = AcmeProvider()
    job = importbridge.ImportJob(
        provider="acme", id="ld_1", state=importbridge.JobState.PARTIAL, provider_state="DONE_WITH_ERRORS",
        total=7, processed=7, succeeded=4, failed=3,
    )  # fmt: skip
    page = [{"line": 2, "code": "invalid_email", "reason": "no @", "record": {}}]
    answers = [
        Answer(data={"rejections": page, "next_page": 2}),
        Answer(data={"rejections": page, "next_page": 3}),
        Answer(data={"rejections": page, "next_page": None}),
    ]
    played = play(provider, provider.failed_rows_flow(TestAcmeFlows().context(), job), answers)
    assert [row.row for row in played.emitted] == [2, 2, 2]
    assert [request.params for request in played.requests] == [{"page": 1}, {"page": 2}, {"page": 3}]
