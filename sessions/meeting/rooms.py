"""A session's meeting room is made when the session leaves draft (scheduled, or opened
straight away), so that every page that shows the join code, the check-in or the projector link
only reads it: a resident's GET of the session page writes nothing.

Connected to ``post_save`` of TopicSession in ``sessions.apps`` (the core's services, which move
the state, do not import the meeting). A session saved without its state (``update_fields``
without "state") is left alone: that save cannot have published it.
"""

from __future__ import annotations

from typing import Any

from sessions.meeting.services import meeting_room_ensure
from sessions.models import SessionState, TopicSession


def room_for_published_session(
    sender: type[TopicSession], instance: TopicSession, update_fields: Any = None, raw: bool = False, **kwargs: Any
) -> None:
    if raw or instance.state == SessionState.DRAFT:
        return
    if update_fields is not None and "state" not in update_fields:
        return
    meeting_room_ensure(session=instance)
