"""TalkValue runs the same conformance suite as every third-party provider."""

from importbridge_talkvalue import TalkValueProvider

from importbridge.testing import ProviderConformance


class TestTalkValueConformance(ProviderConformance):
    provider = TalkValueProvider()
