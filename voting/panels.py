"""The votes panel of the session page (registered from ``VotingConfig.ready`` into
sessions/panels.py, which does not import voting)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from sessions.models import SessionState
from voting import rules, selectors

if TYPE_CHECKING:
    from sessions.panels import Viewer


def votes_panel(viewer: Viewer) -> dict[str, Any] | None:
    """The session's motions as this viewer may see them; shown once there is one, to
    moderators, and while the session is live."""
    session, user = viewer.session, viewer.user
    items = selectors.session_motions(session=session, user=user, can_manage=rules.can_manage_motions(user=user, session=session))
    # Open votes first, newest first; then the others in their order (docs/live-page.md).
    items.sort(key=lambda item: (item["motion"]["state"] != "open", -item["motion"]["id"] if item["motion"]["state"] == "open" else 0))
    for item in items:
        # A fresh idempotency key for the no-JavaScript form (the script makes its own).
        item["key"] = secrets.token_urlsafe(16)
    if not (items or viewer.moderator or session.state == SessionState.LIVE):
        return None
    return {"motion_items": items}
