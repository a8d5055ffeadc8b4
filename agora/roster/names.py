"""How a person is named on pages, in the minutes and in the room."""

from __future__ import annotations

from typing import Any


def display_name(user: Any) -> str:
    """The full name, else the login name; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
