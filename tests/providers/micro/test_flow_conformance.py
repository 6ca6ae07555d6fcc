"""Micro's flows pass the flow conformance suite: scripted answers and its simulator."""

from collections.abc import Mapping
from typing import Any, ClassVar

from importbridge_micro import MicroProvider

from importbridge.testing import FlowConformance


class TestMicroFlows(FlowConformance):
    provider = MicroProvider()
    records = (
        {"name": "Org 1", "domain": "org1.example.com"},
        {"name": "Org 2", "domain": "org2.example.com"},
        {"name": ""},
        {"name": "X", "email": "nope"},
        {"name": "Org 5", "domain": "org5.example.com"},
    )
    bad_rows = frozenset({3, 4})
    # a job over 2 rows is async: it is polled to its end
    sandbox_options: ClassVar[Mapping[str, Any]] = {"rate_limit": None, "sync_threshold": 2}
