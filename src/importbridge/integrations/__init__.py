"""Integrations with orchestrators (each an extra): thin layers over the public step API.

They use ``poll_once``, resume tokens and ``find_submit``, and keep no state of their own.
"""
