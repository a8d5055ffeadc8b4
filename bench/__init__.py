"""Benchmarks (docs/performance.md). ``python -m bench`` runs the live-session benchmark."""
