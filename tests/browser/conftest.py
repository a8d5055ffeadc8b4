"""Playwright driving Debian's /usr/bin/chromium against a real daphne server.

Every test here is marked ``browser`` (see tests/servers.py for skip/fail rules).
Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.servers import CHROMIUM, ROOT

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def shared_browser() -> Iterator[Any]:
    """One Chromium for every test of a module on a worker (launching one per test costs seconds
    each); each test's pages live in browser contexts of their own (``new_page``)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls
    # (factories, assertions) are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser(shared_browser: Any) -> Iterator[Any]:
    """The module's Chromium; every context this test opened is closed after it (cookies, pages and
    sockets do not outlive the test)."""
    try:
        yield shared_browser
    finally:
        for context in list(shared_browser.contexts):
            context.close()


def new_page(
    browser: Any,
    *,
    viewport: dict[str, int] | None = None,
    language: str | None = None,
    elder: bool = False,
    base_url: str = "",
    javascript: bool = True,
) -> Any:
    """A page in a fresh browser context (its own cookies: one person per context)."""
    context = browser.new_context(viewport=viewport or PHONE, locale="zh-CN", java_script_enabled=javascript)
    cookies = []
    if language and base_url:
        cookies.append({"name": "django_language", "value": language, "url": base_url})
    if elder and base_url:
        cookies.append({"name": "agora_elder", "value": "1", "url": base_url})
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def login(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
