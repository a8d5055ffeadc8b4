"""Shared infrastructure with no domain knowledge: errors, text cleaning, broadcasting, coalescing,
precompiled queries, jobs, the live server adjustments. Imports nothing from Agora above it."""
