"""Live pages in real Chromium after trouble: the live page forgets the errors an outage caused;
the projector shows open votes at once and follows their count."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sessions.meeting.services import meeting_room_ensure
from tests.browser.conftest import DESKTOP, login, new_page, screenshot
from tests.factories import World
from tests.voting.helpers import open_motion, vote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# What the server answers a ping while its database is away (sessions/consumers.py, server_error).
PING_FAILED = {"type": "error", "code": "server_error", "message": "出了点问题，请再试一次。", "request_type": "ping"}


def test_a_keep_alive_that_failed_during_an_outage_leaves_no_error_under_the_composer(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    page = new_page(browser)
    routes: list[Any] = []

    def through(ws: Any) -> None:  # the real server, with a way to speak as it
        ws.connect_to_server()
        routes.append(ws)

    page.route_web_socket(re.compile(r"/ws/sessions/\d+/$"), through)
    login(page, base, "res1")
    page.goto(f"{base}/sessions/{tx_world.session.pk}/")
    page.wait_for_selector("#live-status.online")

    # An idle resident: the keep-alive fails while the database is away…
    routes[-1].send(json.dumps(PING_FAILED))
    page.wait_for_selector("#composer-error:has-text('出了点问题')")
    # …and the next one (the 25 s timer's) succeeds: the sentence goes.
    page.evaluate("window.AgoraLive.send({type: 'ping'})")
    page.wait_for_selector("#composer-error", state="hidden", timeout=5_000)
    assert page.is_enabled("#send")

    # A refusal of the resident's own post is not taken away by a keep-alive.
    routes[-1].send(json.dumps({"type": "error", "code": "muted", "message": "主持人已让你暂时不能发言。", "request_type": "message.post"}))
    page.wait_for_selector("#composer-error:has-text('暂时不能发言')")
    page.evaluate("window.AgoraLive.send({type: 'ping'})")
    page.wait_for_timeout(500)
    assert page.is_visible("#composer-error")


def test_the_projector_shows_an_open_vote_at_once_and_keeps_its_question_as_the_count_moves(
    tx_world: World, daphne_server, browser
) -> None:  # type: ignore[no-untyped-def]
    motion = open_motion(tx_world.session, tx_world.moderator, text="东门夜间划线停车")
    vote(motion, tx_world.resident, "yes")
    room = meeting_room_ensure(session=tx_world.session)
    screen = new_page(browser, viewport=DESKTOP)
    screen.goto(f"{daphne_server.url}/projector/{room.projector_token}/")
    vote_region = f"#projector-vote #motion-{motion.pk}"
    screen.wait_for_selector(f"{vote_region} h3:has-text('东门夜间划线停车')", timeout=2_000)
    assert screen.is_visible(f"{vote_region} .projector-options:has-text('赞成')")
    assert screen.get_attribute(f"#tally-{motion.pk}", "data-total") == "1"

    # A ballot from elsewhere (no announcement reaches this server in the embedded config: the
    # fan-out reads it from the database), and the count moves under the same question.
    vote(motion, tx_world.resident2, "no")
    screen.wait_for_selector(f"{vote_region} #tally-{motion.pk}[data-total='2']", timeout=15_000)
    assert screen.is_visible(f"{vote_region} h3:has-text('东门夜间划线停车')")
    assert screen.locator("#projector-vote .motion").count() == 1
    screenshot(screen, "projector-open-vote")
