"""TalkValue (path imports) for importbridge: a plugin like any third party's, public API only."""

from .provider import TalkValueProvider

__all__ = ["TalkValueProvider"]
