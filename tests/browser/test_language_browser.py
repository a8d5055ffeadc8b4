"""The page's language, end to end: a first visit with an English browser gets English pages and
English live frames; Chinese content in the English page says so (lang="zh-Hans")."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.models import AgendaItem, SessionState
from tests.browser.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def english_browser_page(browser: Any) -> Any:
    """A browser set to English, on its first visit: no language cookie, only Accept-Language."""
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_an_english_browser_gets_agenda_cards_and_new_messages_in_english(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    session = tx_world.session
    session.state = SessionState.LIVE
    session.save()
    AgendaItem.objects.create(session=session, position=1, title="车位登记办法")
    AgendaItem.objects.create(session=session, position=2, title="租户停车")
    url = f"{base}/sessions/{session.pk}/"

    resident = english_browser_page(browser)
    login(resident, base, "res1")
    resident.goto(url)
    assert resident.get_attribute("html", "lang") == "en"
    resident.wait_for_selector("#live-status.online")

    moderator = new_page(browser, viewport=DESKTOP)  # a Chinese browser
    login(moderator, base, "mod")
    moderator.goto(url)
    moderator.wait_for_selector("#live-status.online")
    moderator.click("#agenda-next")
    moderator.wait_for_selector(".agenda-now .agenda-label:has-text('议程 1 / 2')")
    moderator.fill("#id_text", "请大家先登记车辆。")
    moderator.click("#send")

    # Live frames in the page's language, with the Chinese parts marked as Chinese.
    label = resident.locator("#meeting-agenda .agenda-label")
    label.wait_for()
    resident.wait_for_selector("#meeting-agenda .agenda-label:has-text('Agenda item 1 of 2')")
    assert resident.get_attribute("#meeting-agenda .agenda-title", "lang") == "zh-Hans"
    message = resident.locator("#messages .message:has-text('请大家先登记车辆')")
    message.wait_for()
    assert message.locator("button.react[data-kind=agree]").inner_text().startswith("Agree")
    assert message.locator(".message-text").get_attribute("lang") == "zh-Hans"
    assert "赞同" not in message.inner_text()
