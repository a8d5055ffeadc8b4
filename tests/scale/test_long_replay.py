"""A client far behind (``hello`` with ``last_seq`` 0 on a session of 3,000 messages) gets the
whole gap, paced by what it reads, instead of being dropped as a slow reader and reconnecting
forever (sessions/live/fanout.py ``Wire.pace``; docs/protocol.md, ``hello``)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from django.utils import timezone

from sessions.models import Message, TopicSession
from tests.factories import World
from tests.scale.residents import Resident, start_daphne
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]

COUNT = 3000
TEXT = "东门晚上能不能划线停车?" * 25  # ~1.5 KB of HTML and JSON per replayed frame: ~5 MB in all


def test_a_replay_of_3000_messages_reaches_a_client_with_a_small_buffer_without_a_drop(tx_world: World, tmp_path: Path) -> None:
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(session=tx_world.session, seq=seq, author=tx_world.resident2, text_html=f"{seq}: {TEXT}", created_at=now)
            for seq in range(1, COUNT + 1)
        ],
        batch_size=500,
    )
    TopicSession.objects.filter(pk=tx_world.session.pk).update(last_seq=COUNT)
    server = start_daphne(log_dir=tmp_path)
    far_behind = Resident("far-behind", session_cookie(tx_world.resident), tx_world.session.pk)

    async def scenario() -> None:
        # A phone on a slow network: a small receive buffer, so the kernel cannot absorb the replay.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.connect(("127.0.0.1", server.port))
        await far_behind.connect(server, sock=sock)  # hello with last_seq 0, then waits for synced
        assert far_behind.seqs == list(range(1, COUNT + 1))
        assert far_behind.ws is not None and far_behind.ws.close_code is None  # still connected
        await far_behind.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
        assert "dropping a slow reader" not in server.log_path.read_text(errors="replace")
    finally:
        server.stop()
