"""Real WebSocket residents for fault tests: they reconnect elsewhere and catch up by seq.

Each keeps every ``seq`` it was sent, across connections, so a test can check "every
stored message exactly once, in order" for each of them at the end.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.servers import DaphneServer, server_env


def start_daphne(*, log_dir: Path, env: dict[str, str] | None = None, timeout: float = 30.0) -> DaphneServer:
    """``DaphneServer.start`` with extra environment (e.g. a lower limit)."""
    return DaphneServer.start(log_dir=log_dir, env=server_env(extra=env), timeout=timeout)


@dataclass
class Resident:
    """One person's live connection, kept across reconnects."""

    name: str
    cookie: str
    session_id: int
    seqs: list[int] = field(default_factory=list)
    ws: ClientConnection | None = None
    server: DaphneServer | None = None
    _reader: asyncio.Task[None] | None = None
    _synced: asyncio.Event = field(default_factory=asyncio.Event)
    _answers: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return max(self.seqs, default=0)

    async def connect(self, server: DaphneServer, *, sock: socket.socket | None = None) -> None:
        self.server = server
        self._synced = asyncio.Event()
        extra: dict[str, Any] = {"sock": sock} if sock is not None else {}
        self.ws = await websockets.connect(
            f"{server.ws_url}/ws/sessions/{self.session_id}/",
            additional_headers={"Cookie": self.cookie, "Origin": server.url},
            open_timeout=15,
            ping_interval=None,
            compression=None,
            **extra,
        )
        self._reader = asyncio.ensure_future(self._read(self.ws))
        await self.ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq}))
        await asyncio.wait_for(self._synced.wait(), 20)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                kind = frame.get("type")
                if kind == "message":
                    self.seqs.append(frame["seq"])
                elif kind == "synced":
                    self._synced.set()
                answer = (
                    self._answers.pop(str(frame.get("client_id")), None) if kind in {"message.ack", "error", "ballot.receipt"} else None
                )
                if answer is not None and not answer.done():
                    answer.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            for answer in self._answers.values():
                if not answer.done():
                    answer.set_result({"type": "connection.closed"})
            self._answers.clear()

    async def closed(self, timeout: float = 15) -> None:
        """Wait until the server side of the current connection is gone."""
        assert self._reader is not None
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)

    async def request(self, frame: dict[str, Any], timeout: float = 20) -> dict[str, Any]:
        """Send and wait for the answer with the same client_id (ack, receipt or error)."""
        assert self.ws is not None
        answer = asyncio.get_running_loop().create_future()
        self._answers[str(frame["client_id"])] = answer
        await self.ws.send(json.dumps(frame))
        result = await asyncio.wait_for(answer, timeout)
        if result["type"] == "connection.closed":
            raise ConnectionError("the connection closed before the answer")
        return result

    async def post(self, text: str, client_id: str) -> dict[str, Any]:
        return await self.request({"type": "message.post", "text": text, "client_id": client_id})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


async def until(predicate: Any, *, timeout: float, what: str) -> None:
    """Poll ``predicate`` until true (bounded); fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(0.05)
