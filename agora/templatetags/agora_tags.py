from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def fromiso(value: str | None) -> datetime | None:
    """Turn an ISO timestamp from an event's plain data back into an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed
