"""Filters for the meeting's fragments (floor, agenda). What they show is built by the view
(sessions/panels.py) or the live event; nothing here reads the database."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as m:ss (the sign is shown by the words around it)."""
    if seconds is None:
        return ""
    seconds = abs(int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
