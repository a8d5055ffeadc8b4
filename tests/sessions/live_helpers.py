"""Helpers for consumer tests: a logged-in WebsocketCommunicator on the real ASGI app."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from agora.asgi import application


def session_cookie(user: User | None, language: str | None = None) -> str:
    parts = []
    if user is not None:
        client = Client()
        client.force_login(user)
        parts.append(f"sessionid={client.cookies['sessionid'].value}")
    if language:
        parts.append(f"django_language={language}")
    return "; ".join(parts)


async def connect(
    user: User | None, session_id: int, *, origin: str = "http://127.0.0.1", language: str | None = None, hello: int | None = 0
) -> tuple[WebsocketCommunicator, bool]:
    cookie = await database_sync_to_async(session_cookie)(user, language)
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    comm = WebsocketCommunicator(application, f"/ws/sessions/{session_id}/", headers=headers)
    ok, _code = await comm.connect(timeout=5)
    if ok and hello is not None:
        await comm.send_json_to({"type": "hello", "last_seq": hello})
        await receive_until(comm, "synced")
    return comm, ok


async def receive_until(comm: WebsocketCommunicator, frame_type: str, timeout: float = 5) -> list[dict[str, Any]]:
    """Every frame up to and including the first of ``frame_type``."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


async def frames_of(comm: WebsocketCommunicator, frame_type: str, count: int, timeout: float = 5) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < count:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            got.append(frame)
    return got


async def drain(comm: WebsocketCommunicator, wait: float = 0.3) -> list[dict[str, Any]]:
    """Every frame that arrives until none comes for ``wait`` seconds.

    (A receive timeout would cancel the application, so wait with receive_nothing.)"""
    frames = []
    while not await comm.receive_nothing(timeout=wait):
        frames.append(await comm.receive_json_from(timeout=5))
    return frames
