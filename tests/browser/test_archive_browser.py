"""A visitor finds public minutes by searching 停车 and opens the print view (no login, no JS needed)."""

from __future__ import annotations

from typing import Any

import pytest

from records.models import Visibility
from tests.browser.conftest import DESKTOP, PHONE, new_page, screenshot
from tests.records.helpers import published

pytestmark = pytest.mark.browser


@pytest.fixture
def archive(tx_world: Any) -> dict[str, Any]:
    return {
        "public": published(tx_world, title="新增停车位如何分配", visibility=Visibility.PUBLIC),
        "internal": published(tx_world, title="内部：停车费调整", visibility=Visibility.MEMBERS, summary="停车费暂不调整。"),
    }


def _search_and_print(page: Any, base: str, *, query: str, name: str) -> None:
    page.goto(f"{base}/")
    page.click("nav.site-nav a[href='/archive/']")
    page.fill("#id_q", query)
    page.press("#id_q", "Enter")
    page.wait_for_selector("mark")
    assert page.locator(".minutes-card").count() == 1  # the members-only minutes stay hidden
    assert page.locator(".minutes-title mark").first.inner_text() == "停车"
    screenshot(page, f"archive-search-{name}")
    page.click(".minutes-title")
    page.wait_for_selector("#print-link")
    page.click("#print-link")
    page.wait_for_selector(".print-sheet h1")
    assert "新增停车位如何分配" in page.inner_text(".print-sheet h1")
    screenshot(page, f"archive-print-{name}")


def test_visitor_finds_minutes_by_searching_and_prints_them_chinese_phone(
    daphne_server: Any, browser: Any, archive: dict[str, Any]
) -> None:
    page = new_page(browser, viewport=PHONE, base_url=daphne_server.url)
    _search_and_print(page, daphne_server.url, query="停车", name="zh-phone")
    assert "会议纪要" in page.inner_text(".minutes-kind")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the print view scrolls sideways on a phone ({width}px)"
    page.emulate_media(media="print")
    assert page.locator(".print-toolbar").is_hidden()
    page.context.close()


def test_visitor_search_in_english_on_desktop(daphne_server: Any, browser: Any, archive: dict[str, Any]) -> None:
    page = new_page(browser, viewport=DESKTOP, language="en", base_url=daphne_server.url)
    _search_and_print(page, daphne_server.url, query="停车", name="en-desktop")
    assert "Attendance" in page.inner_text(".print-sheet")
    page.context.close()


def test_visitor_search_in_elder_mode_without_javascript(daphne_server: Any, browser: Any, archive: dict[str, Any]) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    context.add_cookies([{"name": "agora_elder", "value": "1", "url": daphne_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    _search_and_print(page, daphne_server.url, query="停车", name="zh-elder-nojs")
    assert "elder" in (page.get_attribute("html", "class") or "")
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 20
    context.close()
