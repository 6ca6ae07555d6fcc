"""Qobra runs the same conformance suite as every third-party provider."""

from importbridge_qobra import QobraProvider

from importbridge.testing import ProviderConformance


class TestQobraConformance(ProviderConformance):
    provider = QobraProvider()
