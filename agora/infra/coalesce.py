"""Coalesced announcements, run off the request: at most one per key per interval in each process.

The first call after a quiet interval sends at once (with what its own transaction read); a
call inside the interval schedules one trailing send, which reads the state when it fires, so
the last frame always shows every committed change. Used by the live tally
(voting/announce.py) and the reaction counts (sessions/reactions.py).

Timers run on the server's event loop when there is one (daphne: services run in
sync_to_async threads that know it); in plain synchronous code (commands, tests) they fall
back to a daemon thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this code serves: the running one, or the one a sync_to_async thread serves."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    return None


def run_later(delay: float, func: Callable[..., Any], *args: Any, on_error: Callable[[], None] | None = None) -> None:
    """Run ``func(*args)`` (sync, may use the ORM) after ``delay`` seconds, off the request."""

    def failed(error: Exception) -> None:
        if on_error is not None:
            on_error()
        log.error("a delayed announcement failed", exc_info=error)

    loop = server_loop()
    if loop is not None:

        async def later() -> None:
            await asyncio.sleep(delay)
            try:
                await database_sync_to_async(func)(*args)
            except Exception as error:
                failed(error)

        # A fresh context: the caller's (a sync_to_async worker) would make asgiref see a
        # nested call into its own single-thread executor and refuse.
        loop.call_soon_threadsafe(lambda: loop.create_task(later(), context=contextvars.Context()))
        return

    def in_thread() -> None:
        try:
            close_old_connections()
            func(*args)
        except Exception as error:
            failed(error)
        finally:
            connection.close()

    timer = threading.Timer(delay, in_thread)
    timer.daemon = True
    timer.start()


class Coalescer:
    """One leading send and at most one trailing send per key per ``interval()`` seconds.

    The sends of one key never overlap: each reads the state and hands it on, and the trailing
    one waits while the leading one is still at it, so a count read earlier is never announced
    after a count read later (a slow leading send under load used to overtake the trailing one).
    """

    PRUNE_ABOVE = 10_000

    def __init__(self, interval: Callable[[], float]) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last_sent: dict[Any, float] = {}  # key → when its last send left this process
        self._trailing: set[Any] = set()
        self._gates: dict[Any, threading.Lock] = {}  # key → held while one of its sends runs

    def submit(self, key: Any, *, send_now: Callable[[], None], send_later: Callable[[], None]) -> None:
        """``send_now`` sends what the caller read; ``send_later`` reads afresh when it fires."""
        interval = self.interval()
        now = time.monotonic()
        with self._lock:
            if key in self._trailing:
                return  # the trailing send is due and will read this change too
            wait = self._last_sent.get(key, 0.0) + interval - now
            if wait > 0:
                self._trailing.add(key)
            else:
                self._last_sent[key] = now
                if len(self._last_sent) > self.PRUNE_ABOVE:
                    for old, at in list(self._last_sent.items()):
                        if now - at > interval and old not in self._trailing:
                            del self._last_sent[old]
                            self._gates.pop(old, None)
        if wait > 0:
            run_later(wait, self._fire, key, send_later, on_error=lambda: self._forget(key))
        else:
            self._send(key, send_now)

    def _fire(self, key: Any, send_later: Callable[[], None]) -> None:
        with self._lock:
            self._trailing.discard(key)
            self._last_sent[key] = time.monotonic()
        self._send(key, send_later)

    def _send(self, key: Any, send: Callable[[], None]) -> None:
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            send()

    def _forget(self, key: Any) -> None:
        with self._lock:
            self._trailing.discard(key)

    def reset(self) -> None:
        """Forget every throttle (tests: ids come again after a rollback)."""
        with self._lock:
            self._last_sent.clear()
            self._trailing.clear()
            self._gates.clear()
