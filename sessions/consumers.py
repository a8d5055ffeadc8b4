"""The live session WebSocket: thin, async; every rule lives in a service (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from agora.infra.broadcast import user_group
from agora.infra.errors import Refused
from agora.infra.live_auth import scope_user
from sessions.live.fanout import PreparedFrame, Wire, fanout_for, local_connections
from sessions.live.layer_joins import bounded, pending_joins
from sessions.live.presence import (
    LiveContext,
    live_connect,
    live_disconnect,
    presence_announce,
)
from sessions.live.registry import HANDLERS, rate_allowed
from sessions.live.rendering import render_variant

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
PRESENCE_COALESCE_SECONDS = 0.5
PRESENCE_BIG_ROOM = 500  # local connections
PRESENCE_BIG_ROOM_SECONDS = 2.0
CLOSE_REFUSED = 4403
CLOSE_TOO_MANY = 4429
# Open live connections of one user in this process (all sessions). Per process, in memory:
# a cap that costs the connect storm nothing; with P processes behind the balancer one user
# holds at most P × this (docs/decisions.md, "Floods").
MAX_SOCKETS_PER_USER = 10
# A JSON escape of a UTF-16 surrogate: only a pair of them makes a character.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

_sockets_per_user: Counter[int] = Counter()

# Per process: one pending presence announcement per session, however many join at once.
_presence_pending: dict[int, asyncio.Task[None]] = {}


def sockets_reset() -> None:
    """Forget the open-socket counts (tests: a test that leaves sockets open)."""
    _sockets_per_user.clear()


def language_from_scope(scope: Mapping[str, Any]) -> str:
    """The language of this connection's frames: the language cookie, else the browser's
    Accept-Language, as LocaleMiddleware chose the page's. A first visit with an English browser
    has no cookie yet; its page is English, and so must its live frames be."""
    codes = {code for code, _name in settings.LANGUAGES}
    cookie = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    if cookie in codes:
        return cookie
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            for accepted, _quality in parse_accept_lang_header(value.decode("latin-1")):
                if accepted == "*":
                    break
                try:
                    return translation.get_supported_language_variant(accepted)
                except LookupError:
                    continue
            break
    return settings.LANGUAGE_CODE


class SessionConsumer(AsyncJsonWebsocketConsumer):
    ctx: LiveContext | None = None
    # Set once admitted (``_admit``): handlers run only for an admitted account.
    user: User
    # The password hash this connection was admitted with (sessions/live/fanout.py).
    live_password: str

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its hop to the sync thread before every message.

        ``AsyncConsumer.dispatch`` first runs ``close_old_connections`` on the one thread-sensitive
        thread: for every connect, ``hello`` and ping, a thread hop that also queues behind posts
        and ballots (~10 % of the server's CPU in a connect storm, py-spy). Every database call of
        this consumer goes through ``database_sync_to_async``, which closes old connections in its
        own thread before and after the call, so the hop protects nothing here.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        user = scope_user(self.scope)
        self.language = language_from_scope(self.scope)
        self.synced = False
        self.hello_seen = False
        self.pending: list[dict[str, Any]] = []
        self.last_sent_seq = 0
        self.counted_user_id: int | None = None
        user_id = user.pk
        if user_id is not None:
            if _sockets_per_user[user_id] >= MAX_SOCKETS_PER_USER:
                # Refused before any database work; said in words (the client retries later).
                await self.accept()
                await self.send_error(
                    "too_many_connections", _("You have this session open in too many windows. Close some of them, then reload this page.")
                )
                await self.close(code=CLOSE_TOO_MANY)
                return
            _sockets_per_user[user_id] += 1
            self.counted_user_id = user_id
        try:
            await self._admit(user)
        except BaseException:
            self._uncount()
            raise

    async def _admit(self, user: User | AnonymousUser) -> None:
        try:
            # Not thread-sensitive: a connect storm's admissions overlap their database round
            # trips in a small pool instead of queueing behind one thread (docs/performance.md).
            self.ctx = await database_sync_to_async(live_connect, thread_sensitive=False)(
                session_id=self.session_id, user=user, channel_name=self.channel_name
            )
        except Refused:
            self._uncount()
            await self.close(code=CLOSE_REFUSED)
            return
        # live_connect admits accounts only (sessions/admission.py): never an AnonymousUser here.
        assert isinstance(user, User)
        self.user = user
        # Bounded: a hung channel layer must not hold the handshake (sessions/live/layer_joins.py).
        await pending_joins().join(self.channel_layer, user_group(self.ctx.user_id), self.channel_name)
        await self.accept()
        # Session events reach this connection through the process's one fan-out member of
        # the session group (sessions/live/fanout.py), not through a channel of its own.
        self.wire = Wire(self)
        await fanout_for(self.session_id, self.channel_layer).join(self)
        self._schedule_presence()

    def _uncount(self) -> None:
        user_id, self.counted_user_id = getattr(self, "counted_user_id", None), None
        if user_id is not None:
            _sockets_per_user[user_id] -= 1
            if _sockets_per_user[user_id] <= 0:
                del _sockets_per_user[user_id]

    async def disconnect(self, code: int) -> None:
        self._uncount()
        if self.ctx is None:
            return
        await fanout_for(self.session_id, self.channel_layer).leave(self)
        wire = getattr(self, "wire", None)
        if wire is not None:
            wire.release()
        await database_sync_to_async(live_disconnect, thread_sensitive=False)(channel_name=self.channel_name)
        group = user_group(self.ctx.user_id)
        left = pending_joins().forget(group, self.channel_name) or await bounded(self.channel_layer.group_discard(group, self.channel_name))
        if not left:
            log.warning("could not leave %s", group)  # Redis is down: the membership goes with the channel
        self._schedule_presence()

    def _schedule_presence(self) -> None:
        task = _presence_pending.get(self.session_id)
        if task is None or task.done():
            # A big room gets fewer snapshots: each one is a frame to every local connection.
            delay = PRESENCE_COALESCE_SECONDS if local_connections(self.session_id) < PRESENCE_BIG_ROOM else PRESENCE_BIG_ROOM_SECONDS
            _presence_pending[self.session_id] = asyncio.ensure_future(_announce_presence_later(self.session_id, delay))

    # --- incoming -----------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error("bad_frame", _("That message could not be read (too large or not text)."))
            return
        try:
            content = json.loads(text_data)
            if _SURROGATE_ESCAPE.search(text_data):
                # A lone surrogate decodes but is no text: it cannot be stored or sent on.
                json.dumps(content, ensure_ascii=False).encode()
        except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
            await self.send_error("bad_json", _("That message could not be read."))
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("bad_message", _("That message could not be read."))
            return
        handler = HANDLERS.get(content["type"])
        if handler is None:
            await self.send_error("unknown_type", _("Unknown request."), request=content)
            return
        # A socket's first hello is always answered (its token still taken): refused, the socket
        # would stay open and never sync. The socket cap bounds how many a person has at once.
        first_hello = content["type"] == "hello" and not self.hello_seen
        self.hello_seen = self.hello_seen or content["type"] == "hello"
        if self.ctx is not None and not rate_allowed(user_id=self.ctx.user_id, message_type=content["type"]) and not first_hello:
            await self.send_error("rate_limited", _("You are doing that too often. Please wait a moment, then try again."), request=content)
            return
        try:
            with translation.override(self.language):
                reply = await handler(self, content)
        except Refused as refusal:
            with translation.override(self.language):
                await self.send_error(refusal.code, str(refusal.message), request=content)
            return
        except Exception:
            log.exception("live handler %s failed", content["type"])
            await self.send_error("server_error", _("Something went wrong. Please try again."), request=content)
            return
        if reply is not None:
            await self.send_json(reply)

    async def send_error(self, code: str, message: str, *, request: dict[str, Any] | None = None) -> None:
        with translation.override(self.language):
            frame: dict[str, Any] = {"type": "error", "code": code, "message": str(message)}
        if request is not None:
            client_id = request.get("client_id")
            if isinstance(client_id, str | int):
                frame["client_id"] = client_id
            frame["request_type"] = request.get("type")
        await self.send_json(frame)

    # --- outgoing (group events) ---------------------------------------------------------
    async def live_event(self, event: dict[str, Any]) -> None:
        assert self.ctx is not None
        if event.get("audience") == "moderators" and not self.ctx.can_moderate:
            return
        frame = self.frame_for(event)
        if event["kind"] == "message":
            if not self.synced:
                self.pending.append(frame)
                return
            if frame["seq"] <= self.last_sent_seq:
                return
            self.last_sent_seq = frame["seq"]
        await self.send_json(frame)

    def fanout_frame(self, event: dict[str, Any], variants: dict[tuple[str, str], PreparedFrame]) -> PreparedFrame | None:
        """The same rules as ``live_event``, for the per-process fan-out: the frame to write
        now (encoded once per variant, shared through ``variants``), or None."""
        ctx = self.ctx
        if ctx is None or (event.get("audience") == "moderators" and not ctx.can_moderate):
            return None
        key = (self.language, ctx.variant)
        prepared = variants.get(key)
        if prepared is None:
            prepared = variants[key] = PreparedFrame(self.frame_for(event))
        if event["kind"] == "message":
            seq = prepared.frame["seq"]
            if not self.synced:
                self.pending.append(prepared.frame)
                return None
            if seq <= self.last_sent_seq:
                return None
            self.last_sent_seq = seq
        return prepared

    def frame_for(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.ctx is not None
        frame = {"type": event["kind"], **event["payload"]}
        if event.get("template"):
            frame["html"] = render_variant(
                event_id=event["id"],
                template=event["template"],
                context=event["context"],
                language=self.language,
                role=self.ctx.variant,
            )
        return frame

    async def send_replay(self, frames: list[PreparedFrame]) -> None:
        """Send replayed messages (framed once, shared), then what arrived live meanwhile:
        in order, once each."""
        wire = getattr(self, "wire", None)
        for prepared in frames:
            seq = prepared.frame["seq"]
            if seq > self.last_sent_seq:
                self.last_sent_seq = seq
                if wire is None or not wire.write(prepared):
                    await self.send(text_data=prepared.text)
                elif wire.watched:
                    await wire.pace()  # as fast as the reader takes it (docs/protocol.md, hello)
        self.synced = True
        pending, self.pending = self.pending, []
        for frame in sorted(pending, key=lambda f: f["seq"]):
            if frame["seq"] > self.last_sent_seq:
                self.last_sent_seq = frame["seq"]
                await self.send_json(frame)

    async def user_disconnect(self, event: dict[str, Any]) -> None:
        """Sent to ``user.<id>`` when the user logs out or is removed: close at once."""
        if event.get("session_id") in (None, self.session_id):
            with translation.override(self.language):
                await self.send_json({"type": "closed", "reason": event.get("reason", ""), "message": _("You have left this session.")})
            await self.close(code=CLOSE_REFUSED)


async def _announce_presence_later(session_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    _presence_pending.pop(session_id, None)
    await database_sync_to_async(presence_announce)(session_id=session_id)
