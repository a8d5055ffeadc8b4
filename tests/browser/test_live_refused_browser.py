"""Real Chromium, a real server: a live page turned away for too many windows (close code 4429)
says so in the reader's language, keeps trying by itself (slowly), and gets in once a window
closes."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.sync.client import connect

from sessions.consumers import MAX_SOCKETS_PER_USER
from tests.browser.conftest import login, new_page, screenshot
from tests.factories import World
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_page_refused_for_too_many_windows_says_so_and_gets_in_once_one_closes(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    cookie = session_cookie(tx_world.resident)
    # The same person's other windows: every socket the server lets one user hold.
    others: list[Any] = [
        connect(
            f"{daphne_server.ws_url}/ws/sessions/{tx_world.session.pk}/",
            additional_headers={"Cookie": cookie, "Origin": base},
            open_timeout=10,
        )
        for _ in range(MAX_SOCKETS_PER_USER)
    ]
    try:
        page = new_page(browser)
        login(page, base, "res1")
        page.goto(f"{base}/sessions/{tx_world.session.pk}/")
        status = page.locator("#live-status")
        page.wait_for_selector("#live-status.error")
        assert "您在太多窗口中打开了本次议事" in status.inner_text()
        assert "本页会自动重试" in status.inner_text()
        screenshot(page, "live-too-many-windows-phone")
    finally:
        for ws in others:
            ws.close()
    # A window closed: the page gets in by itself, without a reload (its slow retry: 5 s, then 10 s).
    page.wait_for_selector("#live-status.online", timeout=30_000)
    assert "已连接" in status.inner_text()
