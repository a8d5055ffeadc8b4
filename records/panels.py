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
