"""Per-process fan-out: one channel-layer subscription per session per process.

A room of 2,000 residents on the textbook Channels pattern costs 2,000 channel-layer
deliveries, 2,000 dispatches and 2,000 JSON encodings per message (~60–75 µs per frame on
our 2-core machine). Here each process joins ``session.<id>`` once, with its own channel;
each event arriving on it is encoded once per audience variant (language × role) and
written to every local connection of that session directly. The per-connection rules stay
on the consumer (``SessionConsumer.fanout_frame``): moderators-only events, the hold-back
of live messages until the replay is done, and "each seq once, in order".

Under daphne the frame is framed once (autobahn ``PreparedMessage``) and written to each
socket; a connection whose reader stopped reading is watched through the socket's write
buffer and dropped once it owes more than ``SLOW_READER_MAX_BYTES`` (the client reconnects and
catches up by ``hello``/``last_seq``: nothing is lost, and the room never waits for it).
Under another ASGI server the frame goes through the consumer's ASGI ``send``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer

from agora.infra import server_internals
from sessions.events import EVENT_TYPE, live_event, session_group
from sessions.live import sources
from sessions.live.layer_joins import JOIN_TIMEOUT, bounded

if TYPE_CHECKING:
    from sessions.consumers import SessionConsumer

log = logging.getLogger(__name__)

# A slow reader may owe this much (beyond the kernel's socket buffers and Twisted's 64 KiB)
# before it is dropped: a few hundred messages, so a phone on a bad network rides out a stall.
SLOW_READER_MAX_BYTES = int(os.environ.get("AGORA_SLOW_READER_MAX_BYTES", str(1024 * 1024)))
# The kernel's send buffer per live socket, fixed: autotuning would let a stalled reader hold
# up to 4 MiB of kernel memory (tcp_wmem), 8 GiB for a room of 2,000.
SOCKET_SEND_BUFFER = int(os.environ.get("AGORA_SOCKET_SNDBUF", str(256 * 1024)))
# Re-join the group this often, so a room live for days never outlives the layer's group_expiry.
GROUP_REFRESH_SECONDS = 3600.0
# Compare with the database this often: a message whose announcement was lost (Redis restarted,
# a process died between commit and publish) reaches the room within two checks.
TAIL_CHECK_SECONDS = 3.0
# Re-read the admission of every person this process holds a connection for this often (one
# statement per session per 500 people): a removal, an audience change or a password reset closes
# their connections within this, with or without the channel layer (``SessionFanout.recheck``).
ADMISSION_CHECK_SECONDS = float(os.environ.get("AGORA_ADMISSION_CHECK_SECONDS", "1.5"))
# Closed because the sign-in changed (password changed here, session cycled): reconnect, and the
# handshake decides. Refusals for good are 4403 with a ``closed`` frame first.
CLOSE_SIGN_IN_CHANGED = 4401
# Compare open votes' tallies with the database this often: ballots whose tally announcement was
# lost (the channel layer hung or was down) reach the room without waiting for another ballot.
VOTE_CHECK_SECONDS = 3.0
# A tally that came through the channel layer this recently is still flowing: trust it.
VOTE_QUIET_SECONDS = 2.0
MESSAGE_TEMPLATE = "sessions/partials/_message.html"
# A replayed history (``hello``) is read, rendered and framed once and shared by every connection
# that asks for the same one while nothing happens in the room, for at most this long.
REPLAY_SHARE_SECONDS = 2.0
REPLAY_SHARE_MAX = 32
# A replay is written as fast as the reader takes it: while a connection owes more than this, the
# next replayed frame waits (a client 3,000 messages behind is paced, not dropped as a slow reader).
REPLAY_PACE_BYTES = int(os.environ.get("AGORA_REPLAY_PACE_BYTES", str(256 * 1024)))
# A replay whose reader takes nothing for this long is given up (the connection is dropped).
REPLAY_STALL_SECONDS = 30.0

_FANOUTS: dict[int, SessionFanout] = {}


class Wire:
    """How to write pre-encoded frames to one connection: directly under daphne.

    Under daphne the socket's write buffer is watched: Twisted keeps whatever the kernel does
    not take, without limit, so a reader that stopped would grow the process by every frame
    of the room. Past ``SLOW_READER_MAX_BYTES`` the connection is aborted instead. What is
    read of daphne, autobahn and Twisted for it lives in agora/infra/server_internals.py.
    """

    # write(frame) -> bool: write synchronously if possible; False means "use the ASGI send
    # instead". Under daphne it is the connection's own ``write``, with no call in between: it
    # runs for every frame to every connection of the room.
    write: Callable[[PreparedFrame], bool]

    def __init__(self, consumer: SessionConsumer) -> None:
        self.consumer = consumer
        self.connection = server_internals.connection(consumer.base_send, max_owed=SLOW_READER_MAX_BYTES, on_too_slow=self._too_slow)
        if self.connection is None:
            self.write = _use_asgi_send
        else:
            self.connection.set_send_buffer(SOCKET_SEND_BUFFER)
            self.write = self.connection.write

    def _too_slow(self, owed: int) -> None:
        log.warning("dropping a slow reader in session %s (owes %d bytes)", self.consumer.session_id, owed)

    @property
    def watched(self) -> bool:
        """Whether what this connection owes can be read (``owed``, ``pace``)."""
        return self.connection is not None and self.connection.watched

    def owed(self) -> int | None:
        """Bytes written to this connection that the peer has not taken yet (None: unknown)."""
        connection = self.connection
        return None if connection is None else connection.owed()

    async def pace(self) -> None:
        """Wait while the connection owes more than ``REPLAY_PACE_BYTES``: between the frames of
        a replay, so a long one is never more than that ahead of its reader (and never reaches
        ``SLOW_READER_MAX_BYTES``). A reader that takes nothing for ``REPLAY_STALL_SECONDS`` is
        dropped. Costs nothing while the reader keeps up."""
        owed = self.owed()
        if owed is None or owed <= REPLAY_PACE_BYTES:
            return
        deadline = time.monotonic() + REPLAY_STALL_SECONDS
        while owed is not None and owed > REPLAY_PACE_BYTES:
            connection = self.connection
            if connection is None or not connection.is_open():
                return
            if time.monotonic() > deadline:
                log.warning("dropping a stalled replay in session %s (owes %d bytes)", self.consumer.session_id, owed)
                connection.abort()
                return
            await asyncio.sleep(0.01)
            owed = self.owed()

    def release(self) -> None:
        self.connection = None
        self.write = _use_asgi_send


def _use_asgi_send(frame: PreparedFrame) -> bool:
    return False


class PreparedFrame:
    """One frame for one audience variant: the dict, its JSON text, and its framed bytes."""

    __slots__ = ("_prepared", "frame", "payload", "text")

    def __init__(self, frame: dict[str, Any]) -> None:
        self.frame = frame
        self.text = json.dumps(frame)
        self.payload = self.text.encode()
        self._prepared: Any = None

    def prepared(self, connection: server_internals.DaphneConnection) -> Any:
        if self._prepared is None:
            self._prepared = connection.prepare(self.payload)
        return self._prepared


class SessionFanout:
    """The one member of ``session.<id>`` in this process; writes events to local connections."""

    def __init__(self, session_id: int, layer: BaseChannelLayer) -> None:
        self.session_id = session_id
        self.layer = layer
        self.members: set[SessionConsumer] = set()
        self.channel_name = ""
        self.subscribed = False  # in the session group (the layer answered the join)
        self._started: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._tail: asyncio.Task[None] | None = None
        self._admission: asyncio.Task[None] | None = None
        self._votes: asyncio.Task[None] | None = None
        # The last tally written to local connections per open motion: (payload, when it came
        # through the channel layer).
        self.tallies: dict[int, tuple[dict[str, Any], float]] = {}
        # The highest message seq written to local connections, in order, each once.
        self.last_seq = 0
        self._order = asyncio.Lock()
        # Replays shared by the connections that ask for the same one (``shared_replay``).
        self._replays: dict[Any, tuple[float, asyncio.Task[list[PreparedFrame]]]] = {}

    async def _start(self) -> None:
        # Subscribed first, then read the tail: a message committed in between arrives twice
        # at worst (skipped by seq), never not at all. A layer that does not answer the join
        # within JOIN_TIMEOUT holds neither the room nor the handshake: the room is followed from
        # the database (tail, votes, admissions) until the reader's retry joins.
        self.subscribed = await self._subscribe()
        self.last_seq = await database_sync_to_async(_stored_last_seq)(self.session_id)
        self._reader = asyncio.ensure_future(self._read())
        self._refresher = asyncio.ensure_future(self._refresh())
        self._tail = asyncio.ensure_future(self._watch_tail())
        self._votes = asyncio.ensure_future(self._watch_votes())

    async def join(self, consumer: SessionConsumer) -> None:
        started = self._started
        if started is not None and started.done() and (started.cancelled() or started.exception() is not None):
            self._started = None  # the layer was down when we first tried: try again
        self.members.add(consumer)
        if self._admission is None:
            self._admission = asyncio.ensure_future(self._watch_admission())
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(self._started)
        except Exception:
            self.members.discard(consumer)
            raise

    async def leave(self, consumer: SessionConsumer) -> None:
        self.members.discard(consumer)
        if self.members or _FANOUTS.get(self.session_id) is not self:
            return
        del _FANOUTS[self.session_id]  # a join from now on starts a fresh fan-out
        if self._admission is not None:
            self._admission.cancel()
        for task in (self._reader, self._refresher, self._tail, self._votes):
            if task is not None:
                task.cancel()
        if self._started is not None:
            try:
                await self._started
            except Exception:
                return
            if self.subscribed and not await bounded(self.layer.group_discard(session_group(self.session_id), self.channel_name)):
                log.warning("fan-out for session %s could not leave its group", self.session_id)  # it expires on its own

    async def _refresh(self) -> None:
        group = session_group(self.session_id)
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            if self.subscribed and not await bounded(self.layer.group_add(group, self.channel_name)):
                log.warning("fan-out for session %s could not refresh its group", self.session_id)

    async def _watch_admission(self) -> None:
        """Close the local connections of people no longer admitted (``recheck``), on a timer that
        needs only the database: the channel layer's ``user.<id>`` closing may never come."""
        while True:
            await asyncio.sleep(ADMISSION_CHECK_SECONDS)
            try:
                await self.recheck()
            except Exception:  # the database is away: the next check tries again
                log.warning("fan-out for session %s could not re-check admissions", self.session_id, exc_info=True)

    async def recheck(self) -> None:
        """Re-read who of the local connections' people may still follow the room, and close
        the others: out of ``members`` first (no frame of the room reaches them any more), then
        a ``closed`` frame and close code 4403 for a refusal (removed, out of the audience,
        signed out by a password reset), or close code 4401 when only the sign-in changed.

        Nothing is read per connection or per frame: a few statements per 500 people, every
        ``ADMISSION_CHECK_SECONDS``, whatever the room does."""
        members = [c for c in self.members if c.ctx is not None and getattr(c, "admission_checked", True)]
        if not members:
            return
        identities = [_identity(c) for c in members]
        verdicts = await database_sync_to_async(_admission_verdicts, thread_sensitive=False)(self.session_id, identities)
        for consumer, verdict in zip(members, verdicts, strict=True):
            if verdict is None or consumer not in self.members:
                continue
            action, detail = verdict
            if action == "password":
                consumer.live_password = detail  # signed in again on this session: still admitted
                continue
            self.members.discard(consumer)
            log.info("closing a live connection in session %s: %s", self.session_id, detail)
            try:
                if action == "closed":
                    await consumer.user_disconnect({"type": "user.disconnect", "reason": detail})
                else:
                    await consumer.close(code=CLOSE_SIGN_IN_CHANGED)
            except Exception:  # already going away: out of the room all the same
                log.warning("could not close a live connection in session %s", self.session_id, exc_info=True)

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            if not self.subscribed:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self.subscribed = await self._subscribe()
                if self.subscribed:
                    log.warning("fan-out for session %s joined its group", self.session_id)
                continue
            try:
                event = await self.layer.receive(self.channel_name)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer went away: keep trying; clients resync on reconnect
                log.warning("fan-out for session %s lost the channel layer", self.session_id, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self.subscribed = await self._subscribe()
                continue
            try:
                await self.deliver(event)
            except Exception:
                log.exception("fan-out for session %s failed to deliver %s", self.session_id, event.get("type"))

    async def _watch_tail(self) -> None:
        """Fill from the database what the channel layer did not bring (checked twice, so an
        announcement merely in flight is not read from the database for nothing)."""
        behind_at: int | None = None
        while True:
            await asyncio.sleep(TAIL_CHECK_SECONDS)
            try:
                stored = await database_sync_to_async(_stored_last_seq)(self.session_id)
            except Exception:
                log.warning("fan-out for session %s could not read the message tail", self.session_id, exc_info=True)
                continue
            if stored <= self.last_seq:
                behind_at = None
            elif behind_at is not None and self.last_seq <= behind_at:
                try:
                    async with self._order:
                        await self._fill(stored)
                except Exception:  # the next check tries again
                    log.warning("fan-out for session %s could not fill from the database", self.session_id, exc_info=True)
                behind_at = None
            else:
                behind_at = self.last_seq

    async def _watch_votes(self) -> None:
        """Write each open motion's tally from the database when it differs from the last one
        written here and none came through the channel layer lately (lost announcements)."""
        while True:
            await asyncio.sleep(VOTE_CHECK_SECONDS)
            try:
                await self.check_votes()
            except Exception:
                log.warning("fan-out for session %s could not read the open tallies", self.session_id, exc_info=True)

    async def check_votes(self) -> None:
        events = await database_sync_to_async(_open_tally_events)(self.session_id)
        now = time.monotonic()
        open_ids = {event["payload"]["motion_id"] for event in events}
        for motion_id in list(self.tallies):
            if motion_id not in open_ids:
                del self.tallies[motion_id]
        for event in events:
            motion_id = event["payload"]["motion_id"]
            known = self.tallies.get(motion_id)
            if known is not None and (known[0] == event["payload"] or now - known[1] < VOTE_QUIET_SECONDS):
                continue
            self.tallies[motion_id] = (event["payload"], known[1] if known is not None else 0.0)
            await self._write(event)

    async def vote_frames(self, language: str, variant: str, read: Callable[[], Awaitable[list[dict[str, Any]]]]) -> list[PreparedFrame]:
        """The tally of every open motion, for a connection that (re)syncs: read and framed once
        per language and variant while the room does not change, like a replay."""
        return await self.shared_replay(("votes", language, variant), read)

    async def _fill(self, through_seq: int) -> None:
        """Write stored messages after ``last_seq`` up to ``through_seq``, in order. Hold ``_order``."""
        if through_seq <= self.last_seq:
            return
        rows = await database_sync_to_async(_stored_messages)(self.session_id, self.last_seq, through_seq)
        for data in rows:
            if data["seq"] <= self.last_seq:
                continue
            event = live_event(
                kind="message", payload={"seq": data["seq"], "id": data["id"]}, template=MESSAGE_TEMPLATE, context={"m": data}
            )
            self.last_seq = data["seq"]
            await self._write(event)

    async def _subscribe(self) -> bool:
        """Join the session group, waiting at most JOIN_TIMEOUT: True once joined."""
        if not self.channel_name:
            try:
                # The in-memory and Redis layers take a prefix; the stubs' BaseChannelLayer does not say so.
                self.channel_name = await asyncio.wait_for(self.layer.new_channel(prefix="fanout."), JOIN_TIMEOUT)  # type: ignore[call-arg]
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("fan-out for session %s could not open its channel", self.session_id)
                return False
        if await bounded(self.layer.group_add(session_group(self.session_id), self.channel_name)):
            return True
        log.warning("fan-out for session %s could not join its group; following the room from the database", self.session_id)
        return False

    async def deliver(self, event: dict[str, Any]) -> None:
        if event.get("type") != EVENT_TYPE:
            # Anything else sent to the session group keeps the Channels semantics.
            for consumer in list(self.members):
                await consumer.dispatch(event)
            return
        if event["kind"] != "message":
            self._note_vote(event)
            await self._write(event)
            return
        # Messages go out in seq order, each once: announcements from several processes may
        # cross in Redis, and one may be lost; the gap is filled from the database first
        # (a message with seq n is committed before n+1 can be: the session row lock).
        async with self._order:
            seq = event["payload"]["seq"]
            if seq <= self.last_seq:
                return
            if seq > self.last_seq + 1:
                await self._fill(seq - 1)
            self.last_seq = seq
            await self._write(event)

    def _note_vote(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "tally":
            self.tallies[event["payload"]["motion_id"]] = (event["payload"], time.monotonic())
        elif kind in ("motion.closed", "motion.discarded"):
            self.tallies.pop(event["payload"].get("motion_id"), None)

    async def shared_replay(self, key: Any, read: Callable[[], Awaitable[list[dict[str, Any]]]]) -> list[PreparedFrame]:
        """The replay for ``key`` (after_seq, language, variant): read once, framed once, shared.

        A connect storm sends 2,000 ``hello`` frames asking for the same history; while no event
        changed the room (a message, a reaction, a hidden message: every event but presence
        empties the table) and for at most ``REPLAY_SHARE_SECONDS`` they share one database read
        and one rendering. A replay may thus be older than the connection; what was committed
        since reaches the connection through this fan-out, which it joined before asking: live,
        held back until the replay is sent, once each and in order (``send_replay``).
        """
        now = time.monotonic()
        entry = self._replays.get(key)
        if entry is None or now - entry[0] > REPLAY_SHARE_SECONDS or _failed(entry[1]):
            if len(self._replays) >= REPLAY_SHARE_MAX:
                self._replays.clear()
            task = asyncio.ensure_future(_prepared(read))
            self._replays[key] = entry = (now, task)
        return await asyncio.shield(entry[1])

    async def _write(self, event: dict[str, Any]) -> None:
        if event["kind"] != "presence":
            self._replays.clear()  # the room changed: the next hello reads it again
        variants: dict[tuple[str, str], PreparedFrame] = {}
        slow: list[tuple[SessionConsumer, PreparedFrame]] = []
        for consumer in list(self.members):
            prepared = consumer.fanout_frame(event, variants)
            if prepared is not None and not consumer.wire.write(prepared):
                slow.append((consumer, prepared))
        for consumer, prepared in slow:
            # What Channels' own send(text_data=) sends; the ASGI TypedDict also wants "bytes": None.
            await consumer.base_send({"type": "websocket.send", "text": prepared.text})  # type: ignore[arg-type]


def _failed(task: asyncio.Task[Any]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


async def _prepared(read: Callable[[], Awaitable[list[dict[str, Any]]]]) -> list[PreparedFrame]:
    return [PreparedFrame(frame) for frame in await read()]


def _stored_last_seq(session_id: int) -> int:
    from sessions.models import TopicSession

    return TopicSession.objects.filter(pk=session_id).values_list("last_seq", flat=True).first() or 0


def _stored_messages(session_id: int, after_seq: int, through_seq: int) -> list[dict[str, Any]]:
    from sessions import selectors
    from sessions.models import TopicSession

    session = TopicSession.objects.get(pk=session_id)
    rows = selectors.messages_after(session=session, after_seq=after_seq, limit=max(1, through_seq - after_seq))
    return [row for row in rows if row["seq"] <= through_seq]


def _open_tally_events(session_id: int) -> list[dict[str, Any]]:
    return sources.open_tally_events(session_id=session_id)


def _identity(consumer: SessionConsumer) -> tuple[int, str, str, bool]:
    """(user id, session key, password hash known, moderator view) of a live connection."""
    assert consumer.ctx is not None
    password = getattr(consumer, "live_password", None)
    if password is None:
        password = consumer.live_password = getattr(consumer.user, "password", "") or ""
    session = consumer.scope.get("session")
    return consumer.ctx.user_id, getattr(session, "session_key", None) or "", password, consumer.ctx.can_moderate


def _admission_verdicts(session_id: int, identities: list[tuple[int, str, str, bool]]) -> list[tuple[str, str] | None]:
    """For each connection: None (still admitted), ("closed", reason) to refuse it for good,
    ("reconnect", reason) to close it for a new handshake, or ("password", hash) when the
    password changed and this browser session was signed in again (keep it)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from agora.infra.live_auth import live_user
    from agora.infra.session_store import SessionStore
    from sessions.admission import live_recheck

    standings = live_recheck(session_id=session_id, user_ids={user_id for user_id, *_rest in identities})
    keys = sorted({key for _user, key, *_rest in identities if key})
    alive: set[str] = set()
    for start in range(0, len(keys), 500):
        alive.update(
            Session.objects.filter(session_key__in=keys[start : start + 500], expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
    verdicts: list[tuple[str, str] | None] = []
    for user_id, key, password, can_moderate in identities:
        standing = standings.get(user_id)
        if standing is None or standing.admission is None:
            verdicts.append(("closed", "removed" if standing is not None and standing.removed else "not_admitted"))
        elif standing.admission.can_moderate != can_moderate:
            verdicts.append(("reconnect", "role_changed"))  # a moderator view for a non-moderator, or the reverse
        elif key and key not in alive:
            verdicts.append(("reconnect", "session_ended"))  # logged out, expired, or cycled by a password change
        elif standing.password != password:
            # The password changed: this browser session is still good only if it was signed in
            # again with the new one (Django's update_session_auth_hash); a reset elsewhere ends it.
            user = live_user({"session": SessionStore(key)}) if key else None
            if user is not None and user.pk == user_id:
                verdicts.append(("password", standing.password))
            else:
                verdicts.append(("closed", "signed_out"))
        else:
            verdicts.append(None)
    return verdicts


def fanout_for(session_id: int, layer: BaseChannelLayer) -> SessionFanout:
    fanout = _FANOUTS.get(session_id)
    if fanout is None:
        fanout = _FANOUTS[session_id] = SessionFanout(session_id, layer)
    return fanout


def local_connections(session_id: int) -> int:
    """How many connections of this session this process holds (presence throttling, tests)."""
    fanout = _FANOUTS.get(session_id)
    return len(fanout.members) if fanout is not None else 0
