"""Elder mode (适老化) measured in the browser: text size, target size and contrast on the key pages.

The numbers elder mode promises: body text at least 20 px, every tap target at least 60×60 px
(MIIT's 适老化 figure), chart labels at least 20 px as drawn (an SVG's font size times its scale),
text contrast at least 7:1 against the background actually behind it (composited up the
ancestor chain), one column, and the switch at the top of every page. Measured from computed
styles on a 390×844 phone in Chinese and English.

``AGORA_DOC_SCREENSHOTS=1`` also writes the phone screenshots into docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.browser.test_accessibility import Site, build_site, open_page, role_page
from tests.factories import World
from tests.servers import ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(180)]

MIN_TEXT_PX = 20
MIN_TARGET_PX = 60
MIN_CONTRAST = 7.0
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"

# Measures what a person sees. Text: every visible element with its own text. Targets: every
# control a finger or a keyboard reaches (a checkbox or radio is measured by its label, which is
# the real target). Contrast: WCAG relative luminance of the text colour against the background
# colours of the element and its ancestors composited from the page up (alpha and opacity
# included). Links inside what a resident wrote are inline text, as WCAG 2.5.8 allows.
MEASURE_JS = """() => {
  const visible = el => {
    if (el.closest('.visually-hidden, [hidden], .skip-link, template, noscript')) return false;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const describe = el => {
    let d = el.tagName.toLowerCase();
    if (el.id) d += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) d += '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.');
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
    return text ? d + ' "' + text + '"' : d;
  };
  const parse = c => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map(i => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat([a]);
  };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      const c = parse(s.backgroundColor);
      const opacity = parseFloat(s.opacity);
      if (c[3] > 0) layers.push([c[0], c[1], c[2], c[3] * opacity]);
    }
    let bg = [255, 255, 255, 1];  // the canvas
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const luminance = c => {
    const ch = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const contrast = (fg, bg) => {
    const a = luminance(fg) + 0.05, b = luminance(bg) + 0.05;
    return a > b ? a / b : b / a;
  };
  const effectiveOpacity = el => { let o = 1; for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };

  const text = [], small = [], lowContrast = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const field = (el.matches('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea, select') && (el.value || '').trim());
    if ((!own && !field) || !visible(el)) continue;
    const s = getComputedStyle(el);
    // SVG text (the vote charts) scales with its viewBox: measure the size as drawn on screen.
    const scale = el instanceof SVGGraphicsElement && el.getScreenCTM() ? Math.hypot(el.getScreenCTM().a, el.getScreenCTM().b) : 1;
    const size = parseFloat(s.fontSize) * scale;
    const bg = background(el);
    let fg = parse(s.color);
    fg = over([fg[0], fg[1], fg[2], fg[3] * effectiveOpacity(el)], bg);
    const ratio = contrast(fg, bg);
    text.push({size, ratio, what: describe(el) + ' (' + s.color + ' on rgb(' + bg.slice(0, 3).map(Math.round).join(',') + '))'});
    if (size < %(text)d - 0.01) small.push(describe(el) + ' ' + size + 'px');
    if (ratio < %(contrast)s) lowContrast.push(describe(el) + ' ' + ratio.toFixed(2) + ':1 (' + s.color + ' on rgb(' + bg.slice(0, 3).map(Math.round).join(',') + '))');
  }

  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])';
  const targets = [], tooSmall = [];
  for (let el of document.querySelectorAll(controls)) {
    if (!visible(el) && !(el.matches('input[type=checkbox], input[type=radio]'))) continue;
    if (el.closest('.message-text, .description, .quote-text')) continue;  // links inside what people wrote
    if (el.matches('input[type=checkbox], input[type=radio]')) el = el.closest('label') || document.querySelector('label[for="' + el.id + '"]') || el;
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    targets.push({w: r.width, h: r.height});
    if (r.width < %(target)d - 0.5 || r.height < %(target)d - 0.5) tooSmall.push(describe(el) + ' ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
  // The charts' bigger labels must not run into each other, the bars, or out of the page.
  const overlaps = [];
  const cross = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  for (const chart of document.querySelectorAll('svg.chart')) {
    if (!visible(chart)) continue;
    const parts = Array.from(chart.querySelectorAll('text, rect')).map(e => ({e, r: e.getBoundingClientRect()}));
    for (const [i, a] of parts.entries()) {
      if (a.r.right > document.documentElement.clientWidth + 0.5) overlaps.push(describe(a.e) + ' past the right edge');
      for (const b of parts.slice(i + 1)) if (cross(a.r, b.r)) overlaps.push(describe(a.e) + ' over ' + describe(b.e) + ' ' + [a.r.top, a.r.bottom, a.r.left, a.r.right, b.r.top, b.r.bottom, b.r.left, b.r.right].map(Math.round).join(','));
    }
  }
  const sizes = text.map(t => t.size), ratios = text.map(t => t.ratio);
  return {
    textCount: text.length, minText: Math.min(...sizes), bodyText: parseFloat(getComputedStyle(document.body).fontSize),
    minContrast: Math.min(...ratios), minContrastAt: text.reduce((a, b) => (b.ratio < a.ratio ? b : a), text[0]).what, targetCount: targets.length,
    minTargetW: Math.min(...targets.map(t => t.w)), minTargetH: Math.min(...targets.map(t => t.h)),
    small: [...new Set(small)].slice(0, 15), lowContrast: [...new Set(lowContrast)].slice(0, 15), tooSmall: [...new Set(tooSmall)].slice(0, 15),
    overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    overlaps: overlaps.slice(0, 15), chartTexts: document.querySelectorAll('svg.chart text').length,
  };
}""" % {"text": MIN_TEXT_PX, "target": MIN_TARGET_PX, "contrast": MIN_CONTRAST}  # noqa: UP031 (JavaScript braces: % keeps them plain)

# Elder mode is one column: the main content's direct blocks stack, nothing sits side by side.
COLUMNS_JS = """() => {
  const main = document.querySelector('main');
  const mw = main.getBoundingClientRect().width;
  const side = [];
  for (const el of main.querySelectorAll('.cards > *, .tool-grid > *, .meeting > *, section, form, .card')) {
    const r = el.getBoundingClientRect();
    if (el.closest('.visually-hidden')) continue;
    if (r.width > 1 && r.width < mw * 0.6 && getComputedStyle(el).display !== 'inline') side.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(r.width) + 'px of ' + Math.round(mw));
  }
  return side.slice(0, 8);
}"""


def key_pages(site: Site) -> list[tuple[str, str, str]]:
    """(name, role, path): the live session, the ballot, a vote's results and the minutes."""
    pages = [("live-session", "resident", f"/sessions/{site.live_session_id}/")]
    if site.ballot_path:
        pages.append(("ballot", "resident", site.ballot_path))
    pages += [("results", "resident", p.path) for p in site.pages["resident"] if p.name == "vote-results"]
    pages.append(("minutes", "resident", site.minutes_path))
    pages.append(("session-list", "resident", "/sessions/"))
    pages.append(("login", "anonymous", "/accounts/login/"))
    return pages


def screen_shot(page: Any, name: str) -> Path:
    """What the phone shows first (scrolled to the top), not the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path))
    return path


def element_shot(page: Any, selector: str, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.locator(selector).screenshot(path=str(path))
    return path


def measure(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(MEASURE_JS))


@pytest.mark.parametrize("language", ("zh-hans", "en"))
@pytest.mark.same_on_both_passes  # computed styles of rendered pages: the database and channel layer cannot change them
def test_elder_mode_meets_its_numbers_on_the_key_pages(
    language: str, tx_world: World, daphne_server, shared_browser, record_property
) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    site = build_site(tx_world)
    pages: dict[str, Any] = {}
    failures: list[str] = []
    for name, role, path in key_pages(site):
        if role not in pages:
            pages[role] = role_page(shared_browser, base, role, language=language, elder=True, viewport=PHONE)
        page = pages[role]
        page.goto(base + path)
        if name in {"live-session", "ballot"}:
            page.wait_for_selector("#live-status.online")
            # Presence is announced coalesced, a moment after the connection: wait to be counted.
            for _poll in range(50):
                if page.evaluate("() => /[1-9]/.test(document.querySelector('#presence .presence-count')?.textContent || '')"):
                    break
                page.wait_for_timeout(100)
        assert page.locator("html.elder").count() == 1
        motion = f"#motion-{site.yes_no_motion_id}"
        if name == "ballot":
            # The ballot as an elder sees it just before it is final: choice made, confirmation asked.
            page.locator(f"{motion} label.choice").first.click()
            page.locator(f"{motion} button.cast").click()
            page.wait_for_selector(f"{motion} .ballot-confirm")
            page.locator(motion).scroll_into_view_if_needed()
        m = measure(page)
        record_property(f"{name}-{language}", {k: v for k, v in m.items() if not isinstance(v, list)})
        print(
            f"{name} [{language}]: body {m['bodyText']}px, smallest text {m['minText']}px over {m['textCount']} texts, "
            f"lowest contrast {m['minContrast']:.2f}:1 ({m['minContrastAt']}), smallest target {m['minTargetW']:.0f}×{m['minTargetH']:.0f} over {m['targetCount']} controls"
        )
        assert m["textCount"] > 5 and m["targetCount"] > 3, f"{name}: nothing measured"
        assert m["bodyText"] >= MIN_TEXT_PX
        failures += [f"{name} [{language}] text under {MIN_TEXT_PX}px: {s}" for s in m["small"]]
        failures += [f"{name} [{language}] contrast under {MIN_CONTRAST}:1: {s}" for s in m["lowContrast"]]
        failures += [f"{name} [{language}] target under {MIN_TARGET_PX}×{MIN_TARGET_PX}: {s}" for s in m["tooSmall"]]
        failures += [f"{name} [{language}] not one column: {s}" for s in page.evaluate(COLUMNS_JS)]
        failures += [f"{name} [{language}] chart overlap: {s}" for s in m["overlaps"]]
        if m["overflowX"] > 0:
            failures.append(f"{name} [{language}] wider than the phone by {m['overflowX']}px")
        if name == "results":
            assert m["chartTexts"] > 0, "results: no chart measured"
        if language == "zh-hans" and name in {"live-session", "ballot", "results", "minutes"}:
            shots = []
            if name == "ballot":
                shots.append(element_shot(page, motion, f"{name}-elder-phone-zh"))
            else:
                shots.append(screen_shot(page, f"{name}-elder-phone-zh"))
                if name == "live-session":
                    page.locator("#discussion").scroll_into_view_if_needed()
                    shots.append(element_shot(page, "#discussion", "discussion-elder-phone-zh"))
            if os.environ.get("AGORA_DOC_SCREENSHOTS") == "1":
                DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                for shot in shots:
                    shutil.copy(shot, DOC_SCREENSHOTS / shot.name)
    for page in pages.values():
        page.context.close()
    assert not failures, "\n".join(failures)


def test_the_elder_switch_is_at_the_top_of_every_page_and_remembered(tx_world: World, daphne_server, shared_browser) -> None:  # type: ignore[no-untyped-def]
    """Found without scrolling on a phone, big enough to tap, labelled in words, kept per user."""
    base = daphne_server.url
    site = build_site(tx_world)
    page = role_page(shared_browser, base, "resident", language="zh-hans", elder=False, viewport=PHONE)
    for site_page in site.pages["resident"]:
        open_page(page, base, site_page)
        switch = page.locator("header button.elder-switch")
        assert switch.count() == 1, f"{site_page.name}: no elder switch"
        box = switch.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"] / 2, f"{site_page.name}: switch not near the top"
        assert box["height"] >= 44 and box["width"] >= 44, f"{site_page.name}: switch too small {box}"
        assert "适老" in switch.inner_text() or "大字" in switch.inner_text()
    switch = page.locator("header button.elder-switch")
    switch.click()
    page.wait_for_selector("html.elder")
    off = page.locator("header button[aria-pressed=true]")
    assert off.count() == 1 and (off.bounding_box() or {}).get("height", 0) >= MIN_TARGET_PX
    page.context.close()
    # The choice belongs to the resident: another device without the cookie shows elder mode after login.
    other = role_page(shared_browser, base, "resident", language="zh-hans", elder=False, viewport=PHONE)
    other.goto(f"{base}/sessions/")
    assert other.locator("html.elder").count() == 1
    other.context.close()
