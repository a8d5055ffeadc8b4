"""Shared infrastructure with no domain (docs/architecture.md)."""
