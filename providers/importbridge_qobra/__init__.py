"""Qobra (data imports) for importbridge: a plugin like any third party's, public API only."""

from .provider import QobraProvider

__all__ = ["QobraProvider"]
