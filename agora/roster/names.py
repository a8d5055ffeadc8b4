"""How a person is named on pages, in the minutes and in the room."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import pgettext


def display_name(user: Any) -> str:
    """The full name, else the login name; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def list_separator() -> str:
    """What joins names in a list in the current language: "、" in Chinese, ", " in English."""
    return pgettext("list separator", ", ")


def join_names(names: Iterable[Any]) -> str:
    """Names (or labels) as one list in the current language: 张三、李四 / Zhang San, Li Si."""
    return list_separator().join(str(name) for name in names)
