"""Qobra's flows pass the flow conformance suite: scripted answers and its simulator."""

from collections.abc import Mapping
from typing import Any, ClassVar

from importbridge_qobra import QobraProvider

from importbridge.testing import FlowConformance


class TestQobraFlows(FlowConformance):
    provider = QobraProvider()
    records = tuple(
        {"id": str(i), "name": f"Deal {i}", "amount": "x" if i in (2, 5) else f"{i}.5"} for i in range(1, 7)
    )
    bad_rows = frozenset({2, 5})
    submit_options: ClassVar[Mapping[str, Any]] = {"table": "deals"}
