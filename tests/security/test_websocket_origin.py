"""Cross-site WebSocket hijacking: a live connection opens only from this site's own origin —
scheme, host and port — or from one listed in CSRF_TRUSTED_ORIGINS (agora/infra/websocket_origin.py)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from agora.asgi import application
from agora.infra.websocket_origin import origin_allowed
from sessions.models import Message
from tests.factories import World
from tests.sessions.live_helpers import receive_until, session_cookie

PROXY = {"ALLOWED_HOSTS": ["agora.example.gov.cn"], "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}


def scope(origin: str | None, host: str = "127.0.0.1:8000", **extra: str) -> dict[str, object]:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers += [(name.replace("_", "-").encode(), value.encode()) for name, value in extra.items()]
    return {"type": "websocket", "headers": headers}


async def open_socket(tx_world: World, *, origin: str, host: str) -> tuple[WebsocketCommunicator, bool]:
    cookie = await database_sync_to_async(session_cookie)(tx_world.resident)
    headers = [(b"origin", origin.encode()), (b"host", host.encode()), (b"cookie", cookie.encode())]
    comm = WebsocketCommunicator(application, f"/ws/sessions/{tx_world.session.pk}/", headers=headers)
    ok, _code = await comm.connect(timeout=5)
    return comm, ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_page_on_another_port_of_the_same_host_cannot_post_as_the_resident(tx_world: World) -> None:
    comm, ok = await open_socket(tx_world, origin="http://127.0.0.1:8245", host="127.0.0.1:8000")
    assert not ok
    await comm.disconnect()
    assert not await database_sync_to_async(Message.objects.filter(session=tx_world.session).exists)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_sites_own_page_connects_and_posts(tx_world: World) -> None:
    comm, ok = await open_socket(tx_world, origin="http://127.0.0.1:8000", host="127.0.0.1:8000")
    assert ok
    await comm.send_json_to({"type": "hello", "last_seq": 0})
    await receive_until(comm, "synced")
    await comm.send_json_to({"type": "message.post", "text": "同源页面发言", "client_id": "c-1"})
    await receive_until(comm, "message.ack")
    await comm.disconnect()
    assert await database_sync_to_async(Message.objects.filter(session=tx_world.session, text_html__contains="同源页面发言").exists)()


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1:8245", "127.0.0.1:8000"),  # another port, same host
        ("https://127.0.0.1:8000", "127.0.0.1:8000"),  # another scheme
        ("http://localhost:8000", "127.0.0.1:8000"),  # another host name, though both are allowed hosts
        ("http://127.0.0.1", "127.0.0.1:8000"),  # port 80 is not port 8000
        ("http://evil.example:8000", "evil.example:8000"),  # a Host that is not ours
        ("null", "127.0.0.1:8000"),  # a sandboxed page
        ("http://127.0.0.1:8000/path", "127.0.0.1:8000"),  # not an origin
        (None, "127.0.0.1:8000"),  # no Origin: not a browser
    ],
)
def test_refused_origins(origin: str | None, host: str) -> None:
    assert not origin_allowed(scope(origin, host))


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),  # make run
        ("http://localhost:8000", "localhost:8000"),
        ("http://127.0.0.1:41234", "127.0.0.1:41234"),  # a test server on a random port
        ("http://127.0.0.1", "127.0.0.1"),  # default port on both sides
        ("http://127.0.0.1:80", "127.0.0.1"),
        ("HTTP://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_same_origin_is_accepted(origin: str, host: str) -> None:
    assert origin_allowed(scope(origin, host))


@override_settings(**PROXY)
def test_behind_the_https_proxy_the_origin_is_https_on_443() -> None:
    assert origin_allowed(scope("https://agora.example.gov.cn", "agora.example.gov.cn", x_forwarded_proto="https"))
    assert not origin_allowed(scope("http://agora.example.gov.cn", "agora.example.gov.cn", x_forwarded_proto="https"))
    assert not origin_allowed(scope("https://agora.example.gov.cn:8443", "agora.example.gov.cn", x_forwarded_proto="https"))
    assert not origin_allowed(scope("https://agora.example.gov.cn", "agora.example.gov.cn"))  # came in as plain http


@override_settings(CSRF_TRUSTED_ORIGINS=["https://agora.example.gov.cn", "https://*.hexi.gov.cn"])
def test_csrf_trusted_origins_are_trusted_with_their_port() -> None:
    assert origin_allowed(scope("https://agora.example.gov.cn", "127.0.0.1:8000"))
    assert origin_allowed(scope("https://yiqi.hexi.gov.cn", "127.0.0.1:8000"))
    assert not origin_allowed(scope("https://agora.example.gov.cn:8443", "127.0.0.1:8000"))
    assert not origin_allowed(scope("http://agora.example.gov.cn", "127.0.0.1:8000"))
    assert not origin_allowed(scope("https://evilhexi.gov.cn", "127.0.0.1:8000"))
