"""Tables on phones become cards: one card per row, every value beside its column's name, no word
broken in the middle (the attendance table broke "Households" into "Househ" and "olds")."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.models import SessionState
from tests.browser.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# Each Latin word of every cell's own text, measured: a word drawn on two lines has two boxes.
BROKEN_WORDS = """
sel => {
  const broken = [];
  document.querySelectorAll(sel).forEach(cell => {
    const head = cell.closest("thead");
    if (head && head.getBoundingClientRect().width <= 1) return;  // a card's header row: for screen readers
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[A-Za-z]{4,}/g)) {
        const r = document.createRange();
        r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  });
  return broken;
}
"""


def _cards(page: Any, table: str) -> None:
    rows = page.locator(f"{table} tbody tr")
    assert rows.count() >= 1
    assert page.eval_on_selector(f"{table} tbody tr", "tr => getComputedStyle(tr).display") == "block"
    labels = page.eval_on_selector_all(
        f"{table} tbody tr:first-child > *", "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert all(label not in ("none", "normal", '""') for label in labels), labels
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.eval_on_selector(table, "t => t.getBoundingClientRect().right") <= width


def test_attendance_and_the_security_log_are_cards_on_a_phone_with_words_whole(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    session = tx_world.session
    session.state = SessionState.LIVE
    session.save()
    for viewport in (PHONE, DESKTOP):
        page = new_page(browser, viewport=viewport, language="en", base_url=base)
        login(page, base, "mod")
        page.goto(f"{base}/sessions/{session.pk}/")
        page.wait_for_selector("#live-status.online")
        page.wait_for_selector("#meeting-attendance table.attendance-buildings")
        if viewport is PHONE:
            _cards(page, "#meeting-attendance table.attendance-buildings")
        assert page.evaluate(BROKEN_WORDS, "#meeting-attendance table th, #meeting-attendance table td") == []
        page.goto(f"{base}/audit/{tx_world.community.slug}/")
        if viewport is PHONE:
            _cards(page, "table.audit-table")
        assert page.evaluate(BROKEN_WORDS, "table.audit-table th, table.audit-table td:not(.detail)") == []
        page.context.close()
