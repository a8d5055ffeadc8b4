"""``{% roster_changes_of_motion motion session as changes %}``: the roster changes made in the
session's community while the motion's vote was open (agora.roster.audit.roster_changes_during), ready
to show. ``motion`` is a Motion or its plain data (voting.selectors.motion_data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.translation import get_language

from agora.roster.audit import roster_change_rows, roster_changes_during

register = template.Library()


def _when(value: Any) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value) if value else None
    return value


@register.simple_tag
def roster_changes_of_motion(motion: Any, session: Any) -> list[dict[str, Any]]:
    if not motion or not session:
        return []
    get = motion.get if isinstance(motion, dict) else lambda name: getattr(motion, name, None)
    start = _when(get("opened_at"))
    if start is None:
        return []
    events = roster_changes_during(community=session.community_id, start=start, end=_when(get("closed_at")))
    return roster_change_rows(events, language=get_language())
