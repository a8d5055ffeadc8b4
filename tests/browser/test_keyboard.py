"""Keyboard only: a resident logs in, joins the live session, posts, reacts, raises a hand and votes.

Only Tab, Shift+Tab, Enter and Space (and typing text) — no mouse, no clicks for the resident (the
neighbour and the moderator in other browsers click). Every stop the Tab key reaches must show
where the focus is, and live updates (a neighbour's message, the floor being given, the ballot
receipt, the vote's result) are announced through polite live regions without taking the focus.
Normal mode on a desktop in Chinese; elder mode on a phone in English, with its confirmation step
before a ballot is final.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, login, new_page
from tests.browser.test_accessibility import Site, build_site
from tests.factories import PASSWORD, World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(120)]

# What has the focus, and can a sighted keyboard user see it (an outline or a ring of shadow)?
FOCUS_JS = """(selector) => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const ring = s.boxShadow && s.boxShadow !== 'none';
  const r = el.getBoundingClientRect();
  let d = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  d += ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
  return {desc: d, visible: outline || ring, onScreen: r.bottom > 0 && r.top < innerHeight && r.width > 0, matches: selector ? el.matches(selector) : false};
}"""


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression (``wait_for_function`` evaluates strings, which this site's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(f"() => Boolean({expression})"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"still false after {timeout}s: {expression}")


class Keyboard:
    """Moves through a page with Tab and Shift+Tab, recording any stop where focus cannot be seen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.unseen: list[str] = []
        self.stops = 0

    def focused(self, selector: str = "") -> dict[str, Any] | None:
        return self.page.evaluate(FOCUS_JS, selector)

    def tab_to(self, selector: str, *, backwards: bool = False, limit: int = 200) -> None:
        for _step in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            self.stops += 1
            info = self.focused(selector)
            if info is None:
                continue
            if not info["visible"]:
                self.unseen.append(f"{self.page.url}: {info['desc']}")
            if info["matches"]:
                assert info["onScreen"], f"{info['desc']} has the focus but is scrolled out of view"
                return
        raise AssertionError(f"Tab never reached {selector} on {self.page.url}")

    def skip_to_content(self) -> None:
        """The skip link comes before everything else; Enter on it puts the focus on the main content."""
        self.page.keyboard.press("Tab")
        info = self.focused(".skip-link")
        if not (info and info["matches"]):
            # Chromium may keep the focus start point where it was on the previous page: go back up.
            self.tab_to(".skip-link", backwards=True, limit=80)
            assert self.page.evaluate("document.activeElement === document.querySelector('body a, body button, body input')"), (
                "the skip link is not the first control"
            )
            info = self.focused(".skip-link")
        assert info is not None and info["visible"]
        self.page.keyboard.press("Enter")
        wait_until(self.page, "document.activeElement && document.activeElement.id === 'main'")

    def assert_focus_on(self, selector: str, why: str) -> None:
        info = self.focused(selector)
        assert info is not None and info["matches"], f"{why}: the focus is on {info and info['desc']}"


@pytest.mark.parametrize(
    ("mode", "viewport", "language"),
    [("normal", DESKTOP, "zh-hans"), ("elder", PHONE, "en")],
    ids=["normal-desktop-zh", "elder-phone-en"],
)
def test_a_resident_takes_part_with_the_keyboard_alone(
    mode: str, viewport: dict[str, int], language: str, tx_world: World, daphne_server, shared_browser
) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    site: Site = build_site(tx_world)
    elder = mode == "elder"
    session_url = f"{base}/sessions/{site.live_session_id}/"

    page = new_page(shared_browser, viewport=viewport, language=language, elder=elder, base_url=base)
    keys = Keyboard(page)

    # Log in.
    page.goto(f"{base}/accounts/login/")
    keys.skip_to_content()
    keys.tab_to("#id_username")
    page.keyboard.type("res1")
    keys.tab_to("#id_password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" not in page.url
    assert page.locator("html.elder").count() == (1 if elder else 0)

    # Find the live session in the list and open it.
    keys.skip_to_content()
    keys.tab_to(f'a.card-link[href="/sessions/{site.live_session_id}/"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(session_url)
    page.wait_for_selector("#live-status.online")

    # Post a message: Tab to the box, type, Tab to Send, Enter. The box gets the focus back.
    keys.skip_to_content()
    keys.tab_to("#id_text")
    page.keyboard.type("我用键盘发言:东门需要一盏路灯。")
    keys.tab_to("#send")
    page.keyboard.press("Enter")
    page.wait_for_selector("#messages .message:has-text('我用键盘发言')")
    wait_until(page, "document.activeElement && document.activeElement.id === 'id_text'")
    assert page.input_value("#id_text") == ""

    # A neighbour posts: it is announced politely, and the resident's focus stays where it was.
    neighbour = new_page(shared_browser, viewport=DESKTOP, base_url=base)
    login(neighbour, base, "res2")
    neighbour.goto(session_url)
    neighbour.wait_for_selector("#live-status.online")
    neighbour.fill("#id_text", "同意,路灯很重要。")
    neighbour.click("#send")
    page.wait_for_selector("#messages .message:has-text('路灯很重要')")
    wait_until(page, "document.getElementById('announcer').textContent.includes('路灯很重要')")
    assert page.get_attribute("#announcer", "aria-live") == "polite"
    keys.assert_focus_on("#id_text", "a new message took the focus away")

    # Agree with the first message with Space; the count goes up.
    first = page.locator("#messages .message").first
    before = int(first.locator(".count-agree").inner_text())
    if elder:
        # Elder mode shows one button per message; it opens agree / disagree / reply.
        keys.tab_to("#messages .message:first-child .respond-toggle", backwards=True)
        page.keyboard.press("Enter")
        assert page.locator("#messages .message:first-child .respond-toggle").get_attribute("aria-expanded") == "true"
        keys.tab_to("#messages .message:first-child button.react[data-kind=agree]")
    else:
        keys.tab_to("#messages .message:first-child button.react[data-kind=agree]", backwards=True)
    page.keyboard.press("Space")
    wait_until(page, f"Number(document.querySelector('#messages .message .count-agree').textContent) === {before + 1}")

    # Raise a hand with Space; the focus moves to the button that lowers it, not to the page.
    keys.tab_to("#hand-raise", backwards=True)
    page.keyboard.press("Space")
    page.wait_for_selector("#hand-lower", state="visible")
    try:
        wait_until(page, "document.activeElement && document.activeElement.id === 'hand-lower'")
    except AssertionError as exc:
        state = page.evaluate("""() => ({active: document.activeElement && document.activeElement.outerHTML.slice(0, 120),
          up: document.getElementById('hand-raise-form').hidden, down: document.getElementById('hand-lower-form').hidden,
          raiseDisabled: document.getElementById('hand-raise').disabled, lowerDisabled: document.getElementById('hand-lower').disabled,
          hasFocus: document.hasFocus(), url: location.href})""")
        raise AssertionError(f"raising a hand dropped the focus: {state}") from exc

    # The moderator gives this resident the floor: announced, focus untouched.
    moderator = new_page(shared_browser, viewport=DESKTOP, base_url=base)
    login(moderator, base, "mod")
    moderator.goto(session_url)
    moderator.wait_for_selector("#live-status.online")
    res1_id = page.locator("#session").get_attribute("data-user-id")
    moderator.click(f'.queue-row[data-user-id="{res1_id}"] button.give-floor')
    page.wait_for_selector(".speaker-banner.has-speaker .speaker-name:has-text('res1')")
    assert page.locator(".speaker-now[aria-live=polite]").count() == 1
    # Having the floor takes this resident out of the queue: the lower-hand button goes, and the
    # focus lands on the raise-hand button in its place, not at the top of the page.
    wait_until(page, "document.activeElement && document.activeElement.matches('#hand-lower, #hand-raise')")

    # Vote on the approve/reject motion: Tab into the choices, Space picks the first (yes), Enter casts.
    motion = f"#motion-{site.yes_no_motion_id}"
    keys.tab_to(f"{motion} input[name=choice]")
    page.keyboard.press("Space")
    assert page.locator(f"{motion} input[name=choice]").first.is_checked()
    keys.tab_to(f"{motion} button.cast")
    page.keyboard.press("Enter")
    if elder:
        # Elder mode: the choice is read back in words before the ballot is final.
        page.wait_for_selector(f"{motion} .ballot-confirm")
        assert page.locator(f"{motion} .ballot-receipt, {motion} .ballot-status .receipt").count() == 0
        keys.assert_focus_on(f"{motion} .ballot-confirm p", "the confirmation did not take the focus")
        confirmation = page.locator(f"{motion} .ballot-confirm p").inner_text()
        assert "Yes" in confirmation or "yes" in confirmation.lower() or "赞成" in confirmation
        keys.tab_to(f"{motion} .confirm-yes")
        page.keyboard.press("Enter")
    try:
        page.wait_for_selector(f"{motion} .ballot-status .receipt")
    except Exception as exc:
        raise AssertionError(f"no receipt; the motion shows: {page.locator(motion).inner_text()}") from exc
    assert page.locator(f"{motion} .ballot-status").get_attribute("aria-live") == "polite"

    # The moderator closes the vote: the result is announced politely, and the focus stays in the
    # motion the resident was on (its ballot form is gone), never at the top of the page.
    moderator.click(f"{motion} summary.close-motion-ask")  # closing early asks first
    moderator.click(f"{motion} button.close-motion")
    page.wait_for_selector(f"{motion}[data-state=closed] .outcome")
    closed_text = page.locator("#motions").get_attribute("data-msg-closed") or ""
    wait_until(page, f"document.getElementById('announcer').textContent.includes({closed_text!r})")
    wait_until(page, f"document.activeElement && document.activeElement !== document.body && !!document.activeElement.closest('{motion}')")

    # The ranked motion is numbered choices (selects), nothing to drag.
    ranked = f"#motion-{site.ranked_motion_id}"
    assert page.locator(f"{ranked} select[name=rank]").count() == 3
    assert page.locator(f"{ranked} [draggable=true]").count() == 0

    assert keys.stops > 10
    assert not keys.unseen, "focus not visible on:\n" + "\n".join(dict.fromkeys(keys.unseen))
    for p in (page, neighbour, moderator):
        p.context.close()
