"""Joining channel-layer groups without waiting on the layer (docs/decisions.md, "A frozen
channel layer").

A live connection joins ``user.<id>`` (a logout or a removal closes it at once) and the process's
fan-out joins ``session.<id>``. With Redis hung (SIGSTOP, a partition) a ``group_add`` never
answers, and a handshake that waited for it never opened. The room does not need the layer to be
followed: the fan-out fills messages and tallies from the database and re-reads admissions
(sessions/live/fanout.py). So a join waits at most ``JOIN_TIMEOUT``; one that did not make it is
kept, per process, and retried by one task until the layer answers. While joins are pending, new
ones are queued behind them without trying: a reconnect storm during an outage costs Redis one
attempt every ``RETRY_SECONDS``, not one per socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from channels.layers import BaseChannelLayer

log = logging.getLogger(__name__)

JOIN_TIMEOUT = float(os.environ.get("AGORA_LAYER_JOIN_TIMEOUT", "1.0"))
RETRY_SECONDS = 2.0


async def bounded(call: Any) -> bool:
    """Await a channel-layer call for at most ``JOIN_TIMEOUT``: True if it answered."""
    try:
        await asyncio.wait_for(call, JOIN_TIMEOUT)
    except asyncio.CancelledError:
        raise
    except Exception:  # TimeoutError included: hung, or gone
        return False
    return True


class PendingJoins:
    """The group joins of one event loop that the layer has not answered yet, in order."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], BaseChannelLayer] = {}
        self.task: asyncio.Task[None] | None = None

    async def join(self, layer: BaseChannelLayer, group: str, channel: str) -> bool:
        """Join now if the layer answers within ``JOIN_TIMEOUT`` (True); else retry later (False)."""
        if not self.pending and await bounded(layer.group_add(group, channel)):
            return True
        if not self.pending:
            log.warning(
                "channel layer did not answer a group join within %.1f s: joins are retried every %.0f s", JOIN_TIMEOUT, RETRY_SECONDS
            )
        self.pending[(group, channel)] = layer
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._retry())
        return False

    def forget(self, group: str, channel: str) -> bool:
        """Drop a join not made yet (the connection went away): True if it was pending."""
        return self.pending.pop((group, channel), None) is not None

    async def _retry(self) -> None:
        while self.pending:
            await asyncio.sleep(RETRY_SECONDS)
            for key, layer in list(self.pending.items()):
                if key not in self.pending:
                    continue  # forgotten meanwhile
                if not await bounded(layer.group_add(*key)):
                    break  # still down: the rest waits for the next round
                if self.pending.pop(key, None) is None:
                    await bounded(layer.group_discard(*key))  # forgotten while it was being made
            if not self.pending:
                log.warning("channel layer answers again: the pending group joins are made")


_JOINS: dict[asyncio.AbstractEventLoop, PendingJoins] = {}


def pending_joins() -> PendingJoins:
    """The pending joins of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    joins = _JOINS.get(loop)
    if joins is None:
        for old in [old for old in _JOINS if old.is_closed()]:
            del _JOINS[old]  # tests run many loops
        joins = _JOINS[loop] = PendingJoins()
    return joins
