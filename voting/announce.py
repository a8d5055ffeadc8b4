"""Live tally broadcasts (throttled) and the timer that closes a motion at its set time.

Throttle: at most one tally frame per motion per TALLY_INTERVAL seconds in each process.
A ballot that arrives inside the interval schedules one trailing broadcast, which reads
the tally when it fires, so the last frame always shows every committed ballot. Closing
announces the exact final tally in ``motion.closed`` regardless.

Timers run on the server's event loop when there is one (daphne: services run in
sync_to_async threads that know it); in plain synchronous code (commands, tests) they
fall back to a daemon thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from datetime import datetime

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from agora.broadcast import broadcast_now
from sessions.live.events import live_event, session_group

log = logging.getLogger(__name__)

_lock = threading.Lock()
_last_sent: dict[int, float] = {}
_trailing: set[int] = set()


def tally_interval() -> float:
    return float(getattr(settings, "AGORA_TALLY_INTERVAL", 0.3))


def tally_event(*, motion_id: int) -> tuple[int, dict] | None:
    """The tally event for an open motion (None once closed: the close event has the result)."""
    from voting import selectors
    from voting.models import Motion, MotionState

    motion = Motion.objects.filter(pk=motion_id).select_related("session").first()
    if motion is None or motion.state != MotionState.OPEN:
        return None
    tally = selectors.live_tally_data(motion)
    payload = {"motion_id": motion.pk, "ballots": tally["ballots"], "in_person": tally["in_person"], "total": tally["total"]}
    if tally["options"] is not None:
        payload["options"] = [{"id": o["id"], "total": o["total"]} for o in tally["options"]]
    event = live_event(
        kind="tally",
        payload=payload,
        template="voting/partials/_tally.html",
        context={"motion": selectors.motion_data(motion), "tally": tally},
    )
    return motion.session_id, event


def open_tally_events(*, session_id: int) -> list[dict]:
    """The tally event of every open motion of the session, read now: what a connection that
    (re)syncs, or a fan-out that lost announcements, writes (sessions/live/fanout.py)."""
    from voting.models import Motion, MotionState

    ids = Motion.objects.filter(session_id=session_id, state=MotionState.OPEN).order_by("pk").values_list("pk", flat=True)
    events = []
    for motion_id in ids:
        built = tally_event(motion_id=motion_id)
        if built is not None:
            events.append(built[1])
    return events


def open_vote_events(*, session_id: int) -> list[dict]:
    """For a screen that starts showing the room (the projector): every open motion as
    ``motion.opened`` (question, options, count) followed by its ``tally``."""
    from voting import selectors
    from voting.models import Motion, MotionState

    events = []
    for motion in Motion.objects.filter(session_id=session_id, state=MotionState.OPEN).select_related("agenda_item").order_by("pk"):
        tally = selectors.live_tally_data(motion)
        events.append(
            live_event(
                kind="motion.opened",
                payload={"motion_id": motion.pk, "state": motion.state},
                template="voting/partials/_motion.html",
                context={"motion": selectors.motion_data(motion), "tally": tally},
            )
        )
        built = tally_event(motion_id=motion.pk)
        if built is not None:
            events.append(built[1])
    return events


def tally_announce_now(*, motion_id: int) -> None:
    built = tally_event(motion_id=motion_id)
    if built is not None:
        broadcast_now(session_group(built[0]), built[1])


def tally_announce_on_commit(*, motion_id: int, session_id: int) -> None:
    """Call inside the transaction that changed the count."""
    transaction.on_commit(lambda: _tally_throttled(motion_id))


def _tally_throttled(motion_id: int) -> None:
    interval = tally_interval()
    with _lock:
        if motion_id in _trailing:
            return  # a trailing broadcast is already due and will read this ballot too
        wait = _last_sent.get(motion_id, 0.0) + interval - time.monotonic()
        if wait > 0:
            _trailing.add(motion_id)
        else:
            _last_sent[motion_id] = time.monotonic()
    if wait > 0:
        _run_later(wait, _trailing_fire, motion_id)
    else:
        tally_announce_now(motion_id=motion_id)


def _trailing_fire(motion_id: int) -> None:
    with _lock:
        _trailing.discard(motion_id)
        _last_sent[motion_id] = time.monotonic()
    tally_announce_now(motion_id=motion_id)


def _main_loop() -> asyncio.AbstractEventLoop | None:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _run_later(delay: float, func: object, motion_id: int) -> None:
    """Run ``func(motion_id)`` (sync, ORM) after ``delay`` seconds, off the request."""
    loop = _main_loop()
    if loop is not None:
        async def later() -> None:
            await asyncio.sleep(delay)
            try:
                await database_sync_to_async(func)(motion_id)  # type: ignore[arg-type]
            except Exception:
                log.exception("voting timer failed")

        # A fresh context: the caller's (a sync_to_async worker) would make asgiref see a
        # nested call into its own single-thread executor and refuse.
        loop.call_soon_threadsafe(lambda: loop.create_task(later(), context=contextvars.Context()))
        return

    def in_thread() -> None:
        try:
            close_old_connections()
            func(motion_id)  # type: ignore[operator]
        except Exception:
            log.exception("voting timer failed")
        finally:
            connection.close()

    timer = threading.Timer(delay, in_thread)
    timer.daemon = True
    timer.start()


def _auto_close(motion_id: int) -> None:
    from voting.models import Motion
    from voting.services import motion_close_due

    session_id = Motion.objects.filter(pk=motion_id).values_list("session_id", flat=True).first()
    if session_id is not None:
        motion_close_due(session_id=session_id)


def auto_close_schedule(*, motion_id: int, at: datetime) -> None:
    """Close the motion at ``at`` in this process (lazy checks cover restarts)."""
    if not getattr(settings, "AGORA_VOTING_TIMERS", True):
        return
    delay = max(0.0, (at - timezone.now()).total_seconds()) + 0.05
    _run_later(delay, _auto_close, motion_id)
