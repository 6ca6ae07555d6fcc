"""Micro (Prism imports) for importbridge: a plugin like any third party's, public API only."""

from .provider import MicroProvider

__all__ = ["MicroProvider"]
