"""Baseline: a bare ``websockets`` broadcast server speaking the bench's protocol subset.

``hello`` -> ``synced``; ``message.post`` -> ``message.ack`` to the sender and a
``message`` frame to everyone, encoded once and written with ``websockets.broadcast``.
No database, no auth: the floor that a Python WebSocket server can reach here. It keeps its
connections alive as Agora's daphne does (a ping every 20 s, ``agora.server.DAPHNE_FLAGS``): a
server that never pings cannot tell a phone that went away, and until 2026-11-29 the baseline
did not, so the idle cost of 2,000 connections was charged to Agora alone.

    python -m bench.baselines.websockets_broadcast PORT
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

PING_INTERVAL = 20.0  # as daphne's --ping-interval in agora.server
PING_TIMEOUT = 30.0
CLIENTS: set[ServerConnection] = set()
SEQ = 0


async def handler(ws: ServerConnection) -> None:
    global SEQ
    CLIENTS.add(ws)
    try:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "hello":
                await ws.send(json.dumps({"type": "synced", "last_seq": SEQ}))
            elif kind == "message.post":
                SEQ += 1
                await ws.send(json.dumps({"type": "message.ack", "client_id": frame.get("client_id"), "seq": SEQ}))
                broadcast(CLIENTS, json.dumps({"type": "message", "seq": SEQ, "html": frame.get("text", "")}))
    finally:
        CLIENTS.discard(ws)


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT, backlog=2048, max_queue=None
    ):
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
