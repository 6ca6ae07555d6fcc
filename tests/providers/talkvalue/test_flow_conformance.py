"""TalkValue's flows pass the flow conformance suite: scripted answers and its simulator,
whose failed-row export is replayed in chunks of every size."""

from collections.abc import Mapping
from typing import Any, ClassVar

from importbridge_talkvalue import TalkValueProvider

from importbridge.testing import FlowConformance


class TestTalkValueFlows(FlowConformance):
    provider = TalkValueProvider()
    records = tuple(
        {"email": {4: "nope", 17: ""}.get(i, f"p{i}@example.com"), "first_name": f"P{i}", "company": "Acme"}
        for i in range(1, 31)
    )
    bad_rows = frozenset({4, 17})
    submit_options: ClassVar[Mapping[str, Any]] = {"source_id": 7}
