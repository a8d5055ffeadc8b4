"""The projector (大屏) connection: admitted by the secret in its link, receive-only.

It sees what the room's screen shows (``SCREEN_KINDS``: agenda, floor, votes, and the
moderator's choice of what is on the screen), never the chat, and can send nothing but a
keep-alive ping. ``screen_context`` is what the page shows on (re)load: the same choice.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agora.infra.errors import NotAllowed
from sessions.consumers import CLOSE_REFUSED, SessionConsumer, language_from_scope
from sessions.live import sources
from sessions.live.fanout import PreparedFrame, Wire, fanout_for
from sessions.live.presence import LiveContext
from sessions.live.rendering import render_variant
from sessions.meeting.handlers import sync_frames
from sessions.meeting.services import projector_group
from sessions.models import MeetingRoom

log = logging.getLogger(__name__)

# What the room's screen shows: the one list. The connection is sent the room's events of these
# kinds and no other (never the discussion, reactions, attendance, nor anything meant for the
# moderators); the projector page hands the same table to its script (``data-screen-kinds``,
# static/js/meeting.js), which acts on nothing else. Each kind names what the screen does with it.
SCREEN_KINDS: dict[str, str] = {
    "floor": "floor",  # the speaker and the queue
    "agenda": "agenda",  # the item under discussion
    "motion.opened": "vote",  # the question, its options and the count
    "tally": "vote",
    "motion.closed": "vote",  # the result, until the next vote opens
    "session.state": "reload",  # opened, adjourned: the page again
    "screen": "screen",  # the moderator switched what the screen shows (sent to screens only)
}


def screen_shows(event: dict[str, Any]) -> bool:
    """Whether the room's screen shows this room event."""
    return event.get("kind") in SCREEN_KINDS and event.get("audience") != "moderators"


def screen_kinds_json() -> str:
    """The table for the projector page's script."""
    return json.dumps(SCREEN_KINDS, sort_keys=True)


@dataclass(frozen=True)
class ProjectorContext(LiveContext):
    @property
    def variant(self) -> str:
        return "projector"


def projector_connect(*, token: str) -> ProjectorContext:
    room = MeetingRoom.objects.select_related("session").filter(projector_token=token).first()
    if room is None or not secrets.compare_digest(room.projector_token, token):
        raise NotAllowed(gettext_lazy("This projector link is not valid any more."))
    return ProjectorContext(room.session_id, room.session.community_id, 0, "projector", False)


class ProjectorConsumer(SessionConsumer):
    # Admitted by the link's secret, checked again on every (re)connect: the fan-out's re-check of
    # people's admission (a removal, a password reset) has no person to check here.
    admission_checked = False

    async def connect(self) -> None:
        self.language = language_from_scope(self.scope)
        self.synced = True
        self.pending: list[dict[str, Any]] = []
        self.last_sent_seq = 0
        try:
            self.ctx = await database_sync_to_async(projector_connect)(token=self.scope["url_route"]["kwargs"]["token"])
        except NotAllowed:
            await self.close(code=CLOSE_REFUSED)
            return
        self.session_id = self.ctx.session_id
        await self.channel_layer.group_add(projector_group(self.session_id), self.channel_name)
        await self.accept()
        # Room events come through the process's one fan-out member of the session group, like
        # residents' (sessions/live/fanout.py): the tallies it re-reads after lost announcements
        # reach the screen too. Joined before the first frames are read: nothing falls between.
        self.wire = Wire(self)
        await fanout_for(self.session_id, self.channel_layer).join(self)
        for frame in await database_sync_to_async(projector_first_frames)(session_id=self.session_id, language=self.language):
            await self.send_json(frame)

    async def disconnect(self, code: int) -> None:
        if self.ctx is None:
            return
        await fanout_for(self.session_id, self.channel_layer).leave(self)
        wire = getattr(self, "wire", None)
        if wire is not None:
            wire.release()
        try:
            await self.channel_layer.group_discard(projector_group(self.session_id), self.channel_name)
        except Exception:  # the layer is down: the membership goes with the channel
            log.warning("projector could not leave its group", exc_info=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is not None and len(text_data) < 200:
            try:
                is_ping = json.loads(text_data) == {"type": "ping"}
            except ValueError:
                is_ping = False
            if is_ping:
                await self.send_json({"type": "pong"})
                return
        await self.send_error("read_only", _("The projector screen only shows the meeting; it cannot act in it."))

    async def live_event(self, event: dict[str, Any]) -> None:
        if not screen_shows(event):
            return
        await self.send_json(self.frame_for(event))

    def fanout_frame(self, event: dict[str, Any], variants: dict[tuple[str, str], PreparedFrame]) -> PreparedFrame | None:
        if not screen_shows(event):
            return None
        key = (self.language, "projector")
        prepared = variants.get(key)
        if prepared is None:
            prepared = variants[key] = PreparedFrame(self.frame_for(event))
        return prepared


def projector_first_frames(*, session_id: int, language: str) -> list[dict[str, Any]]:
    """What a screen shows as soon as it connects: the floor, the agenda and every open vote
    (question, options, count; a secret vote only its number of ballots)."""
    return sync_frames(session_id=session_id, language=language, role="projector") + _vote_frames(session_id, language)


def projector_votes_html(*, session_id: int, language: str) -> list[str]:
    """The open votes on the projector page itself, rendered as its first frames render them."""
    return [frame["html"] for frame in _vote_frames(session_id, language) if frame["type"] == "motion.opened"]


def _vote_frames(session_id: int, language: str) -> list[dict[str, Any]]:
    frames = []
    for event in sources.open_vote_events(session_id=session_id):
        if not screen_shows(event):
            continue
        frame = {"type": event["kind"], **event["payload"]}
        frame["html"] = render_variant(
            event_id=event["id"], template=event["template"], context=event["context"], language=language, role="projector"
        )
        frames.append(frame)
    return frames


def screen_context(*, session_id: int, language: str) -> dict[str, Any]:
    """What the screen shows when it (re)loads: the moderator's choice (``MeetingRoom.screen``),
    the open votes, and the chosen result rendered as the live frame renders it."""
    room = MeetingRoom.objects.filter(session_id=session_id).first()
    screen = room.screen if room is not None else "auto"
    result_html = ""
    if room is not None and screen == "result" and room.screen_motion_id:
        event = sources.screen_result(session_id=session_id, motion_id=room.screen_motion_id)
        if event is not None:
            result_html = render_variant(
                event_id=event["id"], template=event["template"], context=event["context"], language=language, role="projector"
            )
        else:
            screen = "auto"
    votes = projector_votes_html(session_id=session_id, language=language)
    return {
        "screen": screen,
        "screen_sound": bool(room and room.screen_sound),
        "open_votes": votes,
        "result_html": result_html,
    }
