"""Reaction counts announced coalesced: at most one ``reaction`` frame per message per
``REACTION_INTERVAL`` seconds in each process, however many people react at once.

The first reaction after a quiet interval is announced at once with the counts its own
transaction read; a reaction inside the interval schedules one trailing announcement, which
reads the counts when it fires, so the last frame always shows every committed reaction. With
P processes a message gets at most P frames per interval (docs/protocol.md, "Limits").
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.db import close_old_connections, connection, transaction

from agora.broadcast import broadcast_now
from sessions.live.events import live_event, session_group

log = logging.getLogger(__name__)

REACTION_INTERVAL = 0.25
_PRUNE_ABOVE = 10_000

_lock = threading.Lock()
_last_sent: dict[int, float] = {}  # message id → when its last frame left this process
_trailing: set[int] = set()


def reaction_counts(*, message_id: int) -> dict[str, int]:
    from sessions.models import Reaction

    counts = {"agree": 0, "disagree": 0}
    for kind in Reaction.objects.filter(message_id=message_id).values_list("kind", flat=True):
        counts[kind] += 1
    return counts


def _announce(session_id: int, message_id: int, counts: dict[str, int]) -> None:
    broadcast_now(session_group(session_id), live_event(kind="reaction", payload={"message_id": message_id, **counts}))


def reaction_announce_on_commit(*, session_id: int, message_id: int, counts: dict[str, int]) -> None:
    """Call inside the transaction that changed the reactions; ``counts`` as it read them."""
    transaction.on_commit(lambda: _throttled(session_id, message_id, counts))


def _throttled(session_id: int, message_id: int, counts: dict[str, int]) -> None:
    now = time.monotonic()
    with _lock:
        if message_id in _trailing:
            return  # the trailing frame is due and will read this reaction too
        wait = _last_sent.get(message_id, 0.0) + REACTION_INTERVAL - now
        if wait > 0:
            _trailing.add(message_id)
        else:
            _last_sent[message_id] = now
            if len(_last_sent) > _PRUNE_ABOVE:
                for key, at in list(_last_sent.items()):
                    if now - at > REACTION_INTERVAL and key not in _trailing:
                        del _last_sent[key]
    if wait > 0:
        _run_later(wait, session_id, message_id)
    else:
        _announce(session_id, message_id, counts)


def _trailing_fire(session_id: int, message_id: int) -> None:
    with _lock:
        _trailing.discard(message_id)
        _last_sent[message_id] = time.monotonic()
    _announce(session_id, message_id, reaction_counts(message_id=message_id))


def _main_loop() -> asyncio.AbstractEventLoop | None:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _run_later(delay: float, session_id: int, message_id: int) -> None:
    """The trailing frame, off the request: on the server's loop, else in a daemon thread."""
    loop = _main_loop()
    if loop is not None:

        async def later() -> None:
            await asyncio.sleep(delay)
            try:
                await database_sync_to_async(_trailing_fire)(session_id, message_id)
            except Exception:
                with _lock:
                    _trailing.discard(message_id)
                log.exception("reaction announcement failed")

        # A fresh context: the caller's (a sync_to_async worker) would make asgiref see a
        # nested call into its own single-thread executor and refuse (as voting/announce.py).
        loop.call_soon_threadsafe(lambda: loop.create_task(later(), context=contextvars.Context()))
        return

    def in_thread() -> None:
        try:
            close_old_connections()
            _trailing_fire(session_id, message_id)
        except Exception:
            with _lock:
                _trailing.discard(message_id)
            log.exception("reaction announcement failed")
        finally:
            connection.close()

    timer = threading.Timer(delay, in_thread)
    timer.daemon = True
    timer.start()


def reactions_reset() -> None:
    """Forget every throttle (tests: message ids come again after a rollback)."""
    with _lock:
        _last_sent.clear()
        _trailing.clear()
