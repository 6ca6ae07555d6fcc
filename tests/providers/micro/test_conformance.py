"""Micro runs the same conformance suite as every third-party provider."""

from importbridge_micro import MicroProvider

from importbridge.testing import ProviderConformance


class TestMicroConformance(ProviderConformance):
    provider = MicroProvider()
