from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from agora.infra.text_language import differs_from_page
from agora.roster.names import join_names as names_joined
from agora.roster.names import list_separator as separator

register = template.Library()


@register.filter
def fromiso(value: str | None) -> datetime | None:
    """Turn an ISO timestamp from an event's plain data back into an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed


@register.filter
def lang_attr(text: object) -> str:
    """` lang="zh-Hans"` (or ` lang="en"`) when the user-written text is not in the page's
    language, else nothing: ``<p{{ m.text_html|lang_attr }}>``."""
    language = differs_from_page(str(text) if text is not None else None, translation.get_language())
    return mark_safe(f' lang="{language}"') if language else ""  # noqa: S308 — one of two constants


@register.filter
def join_names(items: Any) -> str:
    """``{{ labels|join_names }}``: 车主、租户 in Chinese, Car owner, Renter in English."""
    return names_joined(items or ())


@register.simple_tag
def list_separator() -> str:
    """``{% if not forloop.last %}{% list_separator %}{% endif %}``: 、 or ", " by the page's language."""
    return separator()
