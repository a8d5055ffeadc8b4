"""A post whose acknowledgement a dropped connection never brought is sent again after the
reconnect with the same idempotency key, and stored once (static/js/live.js; docs/protocol.md)."""

from __future__ import annotations

import json

import pytest

from sessions.models import Message
from tests.browser.conftest import login, new_page
from tests.factories import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# The connection drops right after the post leaves the browser: the server stores it, its ack is lost.
DROP_AFTER_FIRST_POST = """() => {
  window.__sent = [];
  const send = WebSocket.prototype.send;
  let dropped = false;
  WebSocket.prototype.send = function (data) {
    window.__sent.push(data);
    send.call(this, data);
    if (!dropped && data.includes('"message.post"')) { dropped = true; this.close(); }
  };
}"""


def test_a_post_resent_after_a_dropped_connection_shows_and_is_stored_once(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    alice, bob = new_page(browser), new_page(browser)
    for page, name in ((alice, "res1"), (bob, "res2")):
        login(page, base, name)
        page.goto(url)
        page.wait_for_selector("#live-status.online")
    alice.evaluate(DROP_AFTER_FIRST_POST)

    alice.fill("#id_text", "东门晚上能划线停车吗?")
    alice.click("#send")
    # Reconnected, resent, acknowledged: the composer empties only on the ack.
    alice.wait_for_function("() => document.getElementById('id_text').value === ''", timeout=15_000)
    posts = [json.loads(f) for f in alice.evaluate("window.__sent") if '"message.post"' in f]
    assert len(posts) == 2 and posts[0]["idempotency_key"] == posts[1]["idempotency_key"]
    assert len(posts[0]["idempotency_key"]) >= 16
    bob.wait_for_selector("#messages .message:has-text('东门晚上能划线停车吗')")
    for page in (alice, bob):
        assert page.locator("#messages .message:has-text('东门晚上能划线停车吗')").count() == 1
    assert Message.objects.filter(session=tx_world.session).count() == 1

    # The next message is a new one, with a new key.
    alice.fill("#id_text", "可以,但要留出消防通道。")
    alice.click("#send")
    bob.wait_for_selector("#messages .message:has-text('消防通道')")
    keys = {json.loads(f)["idempotency_key"] for f in alice.evaluate("window.__sent") if '"message.post"' in f}
    assert len(keys) == 2 and Message.objects.filter(session=tx_world.session).count() == 2
