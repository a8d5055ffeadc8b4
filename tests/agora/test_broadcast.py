"""Announcements never hold up the write they announce (agora/infra/broadcast.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any
from unittest import mock

import pytest
from channels.db import database_sync_to_async

from agora.infra import broadcast


class HangingLayer:
    """A channel layer whose Redis stopped answering (SIGSTOP): sends never return."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.hanging = True

    async def group_send(self, group: str, event: dict[str, Any]) -> None:
        while self.hanging:  # noqa: ASYNC110 (a send that never returns, on purpose)
            await asyncio.sleep(3600)
        self.sent.append((group, event))


@pytest.fixture
def quick(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AGORA_BROADCAST_TIMEOUT = 0.2
    settings.AGORA_BROADCAST_RETRY = 0.5


async def test_an_announcement_from_a_write_returns_at_once_while_the_layer_hangs(quick: None) -> None:
    layer = HangingLayer()
    with mock.patch("agora.infra.broadcast.get_channel_layer", return_value=layer):
        started = time.monotonic()
        # As a service does: in a worker thread, after its commit.
        await asyncio.wait_for(database_sync_to_async(broadcast.broadcast_now)("session.1", {"type": "live.event", "n": 1}), 2)
        assert time.monotonic() - started < 0.1
        announcer = broadcast.announcer_for(asyncio.get_running_loop())
        await asyncio.sleep(0.3)  # the send timed out: the layer is treated as down
        assert not announcer.healthy
        for n in range(2, 5):  # dropped without waiting while it is down
            await database_sync_to_async(broadcast.broadcast_now)("session.1", {"type": "live.event", "n": n})
        await asyncio.sleep(0.05)
        assert not announcer.pending and announcer.dropped == 4

        layer.hanging = False
        await asyncio.sleep(0.5)  # the retry window passes
        broadcast.broadcast_now("session.1", {"type": "live.event", "n": 5})
        await asyncio.sleep(0.05)
    assert [event["n"] for _group, event in layer.sent] == [5]
    assert announcer.healthy


async def test_announcements_of_one_process_keep_their_order(quick: None) -> None:
    layer = HangingLayer()
    layer.hanging = False
    with mock.patch("agora.infra.broadcast.get_channel_layer", return_value=layer):
        for n in range(50):
            broadcast.broadcast_now("session.1", {"type": "live.event", "n": n})
        await asyncio.sleep(0.1)
    assert [event["n"] for _group, event in layer.sent] == list(range(50))


def test_without_a_server_loop_the_send_happens_in_place_and_is_bounded(quick: None) -> None:
    layer = HangingLayer()
    with mock.patch("agora.infra.broadcast.get_channel_layer", return_value=layer):
        sender = threading.Thread(target=broadcast.broadcast_now, args=("session.1", {"type": "live.event"}), daemon=True)
        sender.start()  # a management command, say
        sender.join(2)
        assert not sender.is_alive(), "the send waited on the hung layer"
        layer.hanging = False
        broadcast.broadcast_now("session.1", {"type": "live.event", "n": 2})
    assert [event.get("n") for _group, event in layer.sent] == [2]
