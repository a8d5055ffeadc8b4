"""Announce changes to live clients, only after the change is committed.

Nothing else calls the channel layer to announce a change: a rolled-back write is
never announced (STYLE: events only after commit, only from services).

Acknowledging a write never waits on the channel layer. Under a server (daphne) an
announcement is handed to the process's one sender on the event loop and the caller returns
at once; the sender publishes announcements in order, each bounded by
``AGORA_BROADCAST_TIMEOUT`` seconds. A send that fails or times out (Redis stopped, hung or
cut off) marks the layer down: for ``AGORA_BROADCAST_RETRY`` seconds what comes is dropped
without trying, then the next one is tried again. Nothing the clients need is lost with
it: messages are stored with a gap-free ``seq`` and filled from the database by the
fan-out, tallies are re-read from the database by the fan-out too (sessions/live/fanout.py),
and every (re)connect resyncs. docs/decisions.md, "A frozen channel layer".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections import deque
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from agora.infra.coalesce import server_loop

log = logging.getLogger(__name__)

# At most this many announcements wait in a process (a backlog this long is a stalled loop, not
# a busy room: the oldest are dropped, and clients catch up from the database).
QUEUE_MAX = 10_000


def send_timeout() -> float:
    return float(getattr(settings, "AGORA_BROADCAST_TIMEOUT", 1.0))


def retry_seconds() -> float:
    return float(getattr(settings, "AGORA_BROADCAST_RETRY", 1.0))


class Announcer:
    """The sender of one event loop: announcements in order, each with a timeout."""

    def __init__(self) -> None:
        self.pending: deque[tuple[str, dict[str, Any]]] = deque()
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.dropped = 0
        self.sent = 0

    def put(self, group: str, event: dict[str, Any]) -> None:
        """Queue one announcement. Call on the loop's thread."""
        if len(self.pending) >= QUEUE_MAX:
            self.pending.popleft()
            self._drop(1)
        self.pending.append((group, event))
        self.wakeup.set()
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())

    @property
    def healthy(self) -> bool:
        return self.down_since is None

    async def _run(self) -> None:
        while True:
            if not self.pending:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            group, event = self.pending.popleft()
            if self.down_since is not None and time.monotonic() < self.retry_at:
                self._drop(1)
                continue
            layer = get_channel_layer()
            if layer is None:
                continue
            try:
                await asyncio.wait_for(layer.group_send(group, event), send_timeout())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # TimeoutError included: the layer hangs or is gone
                self._failed(group, exc)
                continue
            self.sent += 1
            if self.down_since is not None:
                log.warning(
                    "channel layer answers again after %.1f s; %d announcements were dropped meanwhile (clients catch up from the database)",
                    time.monotonic() - self.down_since,
                    self.dropped,
                )
                self.down_since = None
                self.dropped = 0

    def _failed(self, group: str, exc: BaseException) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
            log.warning("announcement to %s failed (%s): the channel layer is treated as down", group, type(exc).__name__)
        self.retry_at = now + retry_seconds()
        self._drop(1)

    def _drop(self, count: int) -> None:
        self.dropped += count


_ANNOUNCERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Announcer] = weakref.WeakKeyDictionary()
_announcers_lock = threading.Lock()


def announcer_for(loop: asyncio.AbstractEventLoop) -> Announcer:
    with _announcers_lock:
        announcer = _ANNOUNCERS.get(loop)
        if announcer is None:
            announcer = _ANNOUNCERS[loop] = Announcer()
        return announcer


async def _send_bounded(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await asyncio.wait_for(layer.group_send(group, event), send_timeout())


def broadcast_now(group: str, event: dict[str, Any]) -> None:
    """Announce ``event`` to ``group`` now, without waiting for the channel layer."""
    if get_channel_layer() is None:
        return
    loop = server_loop()
    if loop is None:
        # No server loop (a management command, a synchronous test): send here, bounded.
        try:
            async_to_sync(_send_bounded)(group, event)
        except Exception:  # the write is committed; a failed announcement is resynced by clients
            log.exception("broadcast to %s failed", group)
        return
    announcer = announcer_for(loop)
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        announcer.put(group, event)
    else:
        loop.call_soon_threadsafe(announcer.put, group, event)


def user_group(user_id: int) -> str:
    """The group of one person's live connections, on every device (told when they are muted,
    removed or logged out)."""
    return f"user.{user_id}"


def broadcast_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits."""
    transaction.on_commit(lambda: broadcast_now(group, event))
