from __future__ import annotations

from typing import Any

from django import template

from records.voting_bridge import rule_words as words

register = template.Library()


@register.filter
def rule_words(item: dict[str, Any]) -> str:
    """``{{ motion|rule_words }}``: the sealed rule in the reader's language (records/voting_bridge.py)."""
    return words(item)
