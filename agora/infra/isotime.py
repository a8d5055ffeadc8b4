"""Instants as text: ISO 8601 in UTC with ``Z``, the one form events, pages and the sealed minutes use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso_utc(value: datetime) -> str: ...
@overload
def iso_utc(value: datetime | str | None) -> str | None: ...
def iso_utc(value: datetime | str | None) -> str | None:
    """``2026-05-01T12:00:00Z`` for an aware datetime (or such a text, normalised); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
