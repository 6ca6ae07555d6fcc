"""Acme runs importbridge's conformance suite, like every provider does."""

from importbridge_acme import AcmeProvider

from importbridge.testing import ProviderConformance


class TestAcmeConformance(ProviderConformance):
    provider = AcmeProvider()
