"""Production settings, CSP, and the server's WebSocket size limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import html5lib
import pytest
import websockets
from django.test import Client
from django.urls import reverse

from tests.factories import World
from tests.servers import ROOT
from tests.sessions.live_helpers import session_cookie

PROD_ENV = {
    "AGORA_PRODUCTION": "1",
    "AGORA_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-for-the-check-0123456789",
    "AGORA_ALLOWED_HOSTS": "agora.example.org",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_") and k not in {"DATABASE_URL", "REDIS_URL"}}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def test_deploy_check_passes_in_production_mode() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "env,needle",
    [
        ({**PROD_ENV, "AGORA_SECRET_KEY": ""}, "AGORA_SECRET_KEY"),
        ({**PROD_ENV, "AGORA_ALLOWED_HOSTS": "*"}, "never '*'"),
        ({k: v for k, v in PROD_ENV.items() if k != "AGORA_ALLOWED_HOSTS"}, "AGORA_ALLOWED_HOSTS"),
    ],
)
def test_production_mode_refuses_unsafe_settings(env: dict[str, str], needle: str) -> None:
    result = _manage("check", env=env)
    assert result.returncode != 0 and needle in result.stderr


@pytest.mark.django_db
def test_pages_send_a_strict_csp_and_carry_no_inline_script(world: World) -> None:
    client = Client()
    client.force_login(world.moderator)
    for url in [
        reverse("topic_sessions:list"),
        reverse("topic_sessions:detail", args=[world.session.pk]),
        reverse("login"),
        reverse("audit_log", args=[world.community.slug]),
    ]:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        doc = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
        for el in doc.iter():
            if el.tag == "script":
                assert el.get("src") and not (el.text or "").strip(), url
            assert not any(name.startswith("on") for name in el.attrib), (url, el.tag, el.attrib)


@pytest.mark.django_db
def test_htmx_never_evaluates_strings(world: World) -> None:
    # htmx is loaded only where it is used (the archive's search is one), always with its config first.
    page = Client().get(reverse("archive:list")).content.decode()
    assert "htmx-2.0.8.min.js" in page
    config = page.index('"allowEval": false')
    assert '"allowScriptTags": false' in page and config < page.index("htmx-2.0.8.min.js")


@pytest.mark.django_db(transaction=True)
def test_the_server_refuses_oversized_websocket_messages(tx_world: World, daphne_server) -> None:  # type: ignore[no-untyped-def]
    cookie = session_cookie(tx_world.resident)

    async def scenario() -> bool:
        ws = await websockets.connect(  # the server must cut this connection
            f"{daphne_server.ws_url}/ws/sessions/{tx_world.session.pk}/",
            additional_headers={"Cookie": cookie, "Origin": daphne_server.url},
            max_size=None,
        )
        await ws.send("x" * (65 * 1024))
        try:
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
        except websockets.ConnectionClosed as closed:
            # daphne (autobahn) fails the connection: a 1009 close frame, or a dropped socket.
            return closed.rcvd is None or closed.rcvd.code == 1009
        return False

    assert asyncio.run(scenario())
