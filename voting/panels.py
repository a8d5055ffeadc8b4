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


# --- what voting gives the moderator's console and the big screen (sessions/live/sources.py) ---


def motions_open_count(*, session_id: int) -> int:
    """How many votes of the session are open (adjourning asks, sessions/meeting/console.py)."""
    from voting.models import Motion, MotionState

    return Motion.objects.filter(session_id=session_id, state=MotionState.OPEN).count()


def motions_close_open(*, session_id: int, by: Any) -> int:
    """Close every open vote of the session, each with its result (adjourning with "close the open
    votes first", inside the adjourning transaction); how many were closed."""
    from voting.models import Motion, MotionState
    from voting.services import motion_close

    closed = 0
    for motion in Motion.objects.filter(session_id=session_id, state=MotionState.OPEN).select_related("session").order_by("pk"):
        motion_close(motion=motion, by=by)
        closed += 1
    return closed


def screen_result_event(*, session_id: int, motion_id: int) -> dict[str, Any] | None:
    """A closed vote's result for the big screen (sessions/meeting/projector.py), rendered with the
    motion fragment as ``motion.closed`` renders it; None when the session has no such result."""
    from sessions.events import live_event
    from voting.models import Motion, MotionState, Resolution

    motion = Motion.objects.filter(pk=motion_id, session_id=session_id, state=MotionState.CLOSED).select_related("agenda_item").first()
    resolution = Resolution.objects.filter(motion_id=motion_id).first() if motion is not None else None
    if motion is None or resolution is None:
        return None
    return live_event(
        kind="screen.result",
        payload={"motion_id": motion.pk, "outcome": resolution.outcome},
        template="voting/partials/_motion.html",
        context={"motion": selectors.motion_data(motion), "result": selectors.resolution_data(resolution), "tally": None},
    )
