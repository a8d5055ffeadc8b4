"""The shape of what services announce to a session's live clients.

An event carries data (ids, numbers, a plain ``context`` dict). Each consumer turns it
into a frame for its own user: the HTML fragment is rendered from ``template`` with
``context`` once per audience variant (language × role) in each process, never once
per connection (sessions/live/rendering.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from agora.infra.broadcast import broadcast_on_commit

EVENT_TYPE = "live.event"


def session_group(session_id: int) -> str:
    return f"session.{session_id}"


def live_event(
    *,
    kind: str,
    payload: dict[str, Any],
    template: str | None = None,
    context: dict[str, Any] | None = None,
    audience: str = "all",
) -> dict[str, Any]:
    """Build a group event. ``audience`` is "all" or "moderators" (only moderators get it)."""
    return {
        "type": EVENT_TYPE,
        "id": uuid.uuid4().hex,
        "kind": kind,
        "payload": payload,
        "template": template,
        "context": context or {},
        "audience": audience,
    }


def announce(session_id: int, event: dict[str, Any]) -> None:
    """Announce ``event`` to the session's live clients after the current transaction commits."""
    broadcast_on_commit(session_group(session_id), event)
