"""Thin integrations with orchestrators: they use the public step API and keep no state of their own."""
