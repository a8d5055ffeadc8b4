"""A resident whose phone stops reading cannot grow the server's memory or slow the room.

The server keeps at most a bounded amount for it (AGORA_SLOW_READER_MAX_BYTES beyond the
socket buffers), then drops the connection; everyone else keeps getting every message.
The dropped resident reconnects and catches up with nothing missing or doubled.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.factories import World, resident_make
from tests.scale.residents import Resident, start_daphne, until
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]

LONG_TEXT = "东门晚上能不能划线停车?" * 150  # ~1,800 characters: ~11 KB per JSON frame


def test_a_reader_that_stops_is_dropped_and_the_room_goes_on(tx_world: World, tmp_path: Path) -> None:
    server = start_daphne(log_dir=tmp_path, env={"AGORA_SLOW_READER_MAX_BYTES": str(128 * 1024)})
    moderator = Resident("mod", session_cookie(tx_world.moderator), tx_world.session.pk)
    others = [
        Resident(f"r{i}", session_cookie(resident_make(tx_world.community, tags=[tx_world.car_owner])), tx_world.session.pk)
        for i in range(3)
    ]
    slow = Resident("slow", session_cookie(tx_world.resident), tx_world.session.pk)

    async def scenario() -> None:
        await moderator.connect(server)
        for person in others:
            await person.connect(server)
        # A small receive buffer, so the kernel does not absorb megabytes for the stalled reader.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        await slow.connect(server, sock=sock)
        assert slow.ws is not None and slow._reader is not None
        slow.ws.transport.pause_reading()  # the phone stops reading

        posted = 0
        while posted < 300 and "dropping a slow reader" not in server.log_path.read_text(errors="replace"):
            answer = await moderator.post(LONG_TEXT, f"m{posted}")
            for _ in range(5):  # the live rate limit (sessions/live/registry.py): wait for a token
                if answer.get("code") != "rate_limited":
                    break
                await asyncio.sleep(1.1)
                answer = await moderator.post(LONG_TEXT, f"m{posted}")
            assert answer["type"] == "message.ack", answer
            posted += 1
            # The room is not slowed: everyone else has every message so far (bounded wait).
            await until(
                lambda posted=posted: all(len(p.seqs) == posted for p in others), timeout=10, what=f"message {posted} reached the room"
            )
        assert "dropping a slow reader" in server.log_path.read_text(errors="replace"), f"not dropped after {posted} messages"

        slow.ws.transport.resume_reading()
        await slow.closed(timeout=10)  # the server ended the connection
        assert len(slow.seqs) < posted

        await slow.connect(server)  # reconnects with hello(last_seq) and catches up
        await until(lambda: slow.last_seq == posted, timeout=20, what="the slow reader caught up")
        assert slow.seqs == list(range(1, posted + 1))
        for person in [moderator, slow, *others]:
            await person.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        server.stop()
