"""A person a moderator removed opens the running session: a plain notice in their language,
readable on a phone and in elder mode, and the discussion is not shown."""

from __future__ import annotations

import pytest

from sessions.models import Participant
from sessions.services import message_post
from tests.browser.conftest import login, new_page, screenshot
from tests.factories import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_removed_person_sees_a_notice_not_the_discussion(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    message_post(session=tx_world.session, author=tx_world.resident2, text="东门晚上车太多")
    Participant.objects.create(session=tx_world.session, user=tx_world.resident, removed=True)
    url = f"{base}/sessions/{tx_world.session.pk}/"
    for language, elder, notice in (
        (None, False, "主持人已将您移出本次议事"),
        ("en", False, "A moderator removed you"),
        (None, True, "主持人已将您移出本次议事"),
    ):
        page = new_page(browser, language=language, elder=elder, base_url=base)
        login(page, base, "res1")
        response = page.goto(url)
        assert response is not None and response.status == 403
        assert notice in page.locator("main").inner_text()
        assert page.locator("text=东门晚上车太多").count() == 0
        assert page.locator("#composer, #live-status").count() == 0
        screenshot(page, f"removed-notice-{language or 'zh'}{'-elder' if elder else ''}-phone")
        page.context.close()
