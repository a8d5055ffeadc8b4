"""Several daphne processes on the Redis channel layer and PostgreSQL: one room across them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from tests.factories import World
from tests.servers import DaphneServer, wait_ready_all
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.postgres]


async def _open(server: DaphneServer, cookie: str, session_id: int, last_seq: int = 0):  # type: ignore[no-untyped-def]
    ws = await websockets.connect(
        f"{server.ws_url}/ws/sessions/{session_id}/",
        additional_headers={"Cookie": cookie, "Origin": server.url},
        open_timeout=10,
    )
    await ws.send(json.dumps({"type": "hello", "last_seq": last_seq}))
    await _until(ws, "synced")
    return ws


async def _until(ws, frame_type: str, timeout: float = 10) -> list[dict]:  # type: ignore[no-untyped-def]
    frames = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            frames.append(frame)
            if frame["type"] == frame_type:
                return frames


def test_a_message_posted_to_one_process_reaches_a_client_on_another(tx_world: World, tmp_path: Path) -> None:
    one, two = DaphneServer.spawn(log_dir=tmp_path), DaphneServer.spawn(log_dir=tmp_path)  # both start at once
    wait_ready_all([one, two])
    alice = session_cookie(tx_world.resident)
    bob = session_cookie(tx_world.resident2)

    async def scenario() -> None:
        a = await _open(one, alice, tx_world.session.pk)
        b = await _open(two, bob, tx_world.session.pk)
        await a.send(json.dumps({"type": "message.post", "text": "从一号进程发出", "client_id": "a1"}))
        got = [f for f in await _until(b, "message") if f["type"] == "message"]
        assert got[0]["seq"] == 1 and "从一号进程发出" in got[0]["html"]
        await b.send(json.dumps({"type": "message.post", "text": "二号进程回复", "client_id": "b1"}))
        got = [f for f in await _until(a, "message") if f["type"] == "message" and f["seq"] == 2]
        if not got:
            got = [f for f in await _until(a, "message") if f.get("seq") == 2]
        assert "二号进程回复" in got[0]["html"]
        await a.close()
        await b.close()

    try:
        asyncio.run(scenario())
    finally:
        one.stop()
        two.stop()


def test_a_client_of_a_killed_process_reconnects_elsewhere_and_catches_up(tx_world: World, tmp_path: Path) -> None:
    import signal

    one, two = DaphneServer.spawn(log_dir=tmp_path), DaphneServer.spawn(log_dir=tmp_path)  # both start at once
    wait_ready_all([one, two])
    alice = session_cookie(tx_world.resident)
    bob = session_cookie(tx_world.resident2)

    async def scenario() -> None:
        a = await _open(one, alice, tx_world.session.pk)
        b = await _open(two, bob, tx_world.session.pk)
        await a.send(json.dumps({"type": "message.post", "text": "m1", "client_id": "1"}))
        await _until(b, "message")
        one.stop(sig=signal.SIGKILL)
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):
                while True:
                    await a.recv()
        for i in (2, 3):
            await b.send(json.dumps({"type": "message.post", "text": f"m{i}", "client_id": str(i)}))
            await _until(b, "message.ack")
        a2 = await websockets.connect(
            f"{two.ws_url}/ws/sessions/{tx_world.session.pk}/", additional_headers={"Cookie": alice, "Origin": two.url}
        )
        await a2.send(json.dumps({"type": "hello", "last_seq": 1}))
        frames = await _until(a2, "synced")
        assert [f["seq"] for f in frames if f["type"] == "message"] == [2, 3]
        await a2.close()
        await b.close()

    try:
        asyncio.run(scenario())
    finally:
        one.stop()
        two.stop()
