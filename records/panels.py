"""The minutes panel of the session page (registered from ``MinutesConfig.ready`` into
sessions/panels.py): drafting them once a session is adjourned, reading them once published."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessions.models import SessionState

if TYPE_CHECKING:
    from sessions.panels import Viewer


def minutes_panel(viewer: Viewer) -> dict[str, Any] | None:
    state = viewer.session.state
    if state == SessionState.ARCHIVED or (state == SessionState.ADJOURNED and viewer.moderator):
        return {}
    return None


def minutes_console_facts(*, session_id: int) -> dict[str, Any]:
    """For the moderator's next step (sessions/meeting/console.py): are the minutes drafted, published?"""
    from records.models import MinutesDraft, MinutesRecord

    return {
        "minutes_drafted": MinutesDraft.objects.filter(session_id=session_id).exists(),
        "minutes_published": MinutesRecord.objects.filter(session_id=session_id).exists(),
    }
