"""The projector (大屏) connection: admitted by the secret in its link, receive-only.

It sees what the room's screen shows (agenda, floor, votes, presence), never the chat,
and can send nothing but a keep-alive ping.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agora.errors import NotAllowed
from sessions.consumers import CLOSE_REFUSED, SessionConsumer, language_from_scope
from sessions.live.events import session_group
from sessions.live.presence import LiveContext
from sessions.meeting.handlers import sync_frames
from sessions.meeting.services import projector_group
from sessions.models import MeetingRoom

# Frames a room screen never shows: the discussion is for the people in it.
PRIVATE_KINDS = {"message", "message.updated", "reaction", "attendance"}


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
    async def connect(self) -> None:
        self.language = language_from_scope(self.scope)
        self.user = None
        self.synced = True
        self.pending: list[dict[str, Any]] = []
        self.last_sent_seq = 0
        try:
            self.ctx = await database_sync_to_async(projector_connect)(token=self.scope["url_route"]["kwargs"]["token"])
        except NotAllowed:
            await self.close(code=CLOSE_REFUSED)
            return
        self.session_id = self.ctx.session_id
        await self.channel_layer.group_add(session_group(self.session_id), self.channel_name)
        await self.channel_layer.group_add(projector_group(self.session_id), self.channel_name)
        await self.accept()
        for frame in await database_sync_to_async(sync_frames)(session_id=self.session_id, language=self.language, role="projector"):
            await self.send_json(frame)

    async def disconnect(self, code: int) -> None:
        if self.ctx is None:
            return
        await self.channel_layer.group_discard(session_group(self.session_id), self.channel_name)
        await self.channel_layer.group_discard(projector_group(self.session_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
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
        if event.get("kind") in PRIVATE_KINDS or event.get("audience") == "moderators":
            return
        await self.send_json(self.frame_for(event))
