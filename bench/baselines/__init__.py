"""Minimal broadcast servers measured in the same run as Agora, for comparison."""
