"""Acme bulk loads for importbridge: an example third-party provider plugin."""

from .provider import AcmeProvider

__all__ = ["AcmeProvider"]
