"""The big screen (大屏) in real Chromium at 1920×1080 and 1280×720: the moderator switches what it
shows, live; everything is inside the screen, nothing scrolls; a reload shows the same; the bars
are coloured; a warning before the speaking time runs out; a result's own full-screen page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sessions.meeting import services
from sessions.models import AgendaItem, FloorRequest, MeetingRoom
from tests.browser.conftest import SCREENSHOTS, login, new_page
from tests.factories import World
from tests.servers import ROOT
from tests.voting.helpers import open_motion, vote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SIZES = {"1920": {"width": 1920, "height": 1080}, "1280": {"width": 1280, "height": 720}}
DESKTOP = {"width": 1280, "height": 800}

# Every element the screen shows, with its box: none may leave the viewport, the page may not scroll.
OUTSIDE = """() => {
  const w = window.innerWidth, h = window.innerHeight, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || el.closest('.visually-hidden')) continue;
    if (r.left < -1 || r.top < -1 || r.right > w + 1 || r.bottom > h + 1)
      out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.left) + ',' + Math.round(r.top) + ' ' + Math.round(r.right) + ',' + Math.round(r.bottom));
  }
  const se = document.scrollingElement;
  return {outside: out, scrollH: se.scrollHeight, scrollW: se.scrollWidth, w, h};
}"""


DOCS = ROOT / "docs" / "screenshots"


def fits(page: Any, name: str, docs: str = "") -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # projector.js fits the pane after a frame
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
    if docs:
        page.screenshot(path=str(DOCS / f"{docs}.png"), full_page=False)
    box = page.evaluate(OUTSIDE)
    assert box["scrollH"] <= box["h"] and box["scrollW"] <= box["w"], (name, box)
    assert box["outside"] == [], (name, box["outside"][:8])


def shown(page: Any) -> str:
    return page.get_attribute("#screen", "data-pane") or ""


def wait_pane(page: Any, pane: str) -> None:
    page.wait_for_selector(f"#screen[data-pane='{pane}']")
    assert page.is_visible(f".screen-pane[data-pane='{pane}']")


@pytest.mark.parametrize("size", ["1920", "1280"])
def test_the_moderator_switches_the_big_screen_and_it_fits(tx_world: World, daphne_server, browser, size: str) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    session = tx_world.session
    for i, title in enumerate(["车辆登记办法", "新增车位分配方案", "租户停车怎么算"], start=1):
        AgendaItem.objects.create(session=session, position=i, title=title, planned_minutes=15)
    room = services.meeting_room_ensure(session=session)
    services.agenda_item_start(session=session, by=tx_world.moderator)
    motion = open_motion(
        session,
        tx_world.moderator,
        text="东门外侧空地夜间划线停车，每晚 20 点至次日 7 点开放，优先本小区登记车辆",
        secret=False,
        results_live=True,
    )
    vote(motion, tx_world.resident, "yes")
    viewport = SIZES[size]
    screen = new_page(browser, viewport=viewport)
    screen.goto(f"{base}/projector/{room.projector_token}/")

    # Automatic: the open vote, question and tally, in colour.
    wait_pane(screen, "vote")
    question = screen.locator(f"#projector-vote #motion-{motion.pk} h3")
    assert "东门外侧空地" in question.inner_text()
    screen.wait_for_selector(f"#tally-{motion.pk} .tally-ballots:has-text('1')")
    fill = screen.evaluate("() => getComputedStyle(document.querySelector('.chart-bar.bar-yes')).fill")
    assert fill == "rgb(29, 94, 32)", fill  # voting.css is loaded: not black
    fits(screen, f"projector-vote-{size}")

    # A ballot from a phone: the count changes under the question, which stays.
    phone = new_page(browser)
    login(phone, base, "res2")
    phone.goto(f"{base}/sessions/{session.pk}/")
    phone.wait_for_selector("#live-status.online")
    phone.click(f"#motion-{motion.pk} .choice-no")
    phone.click(f"#motion-{motion.pk} button.cast")
    phone.wait_for_selector(f"#motion-{motion.pk} .ballot-status code.receipt")
    screen.wait_for_selector(f"#tally-{motion.pk} .tally-ballots:has-text('2')")
    assert question.is_visible() and "东门外侧空地" in question.inner_text()
    fits(screen, f"projector-vote-tally-{size}", docs=f"big-screen-vote-{size}-zh")

    # The moderator puts the agenda on the screen, then the join code, then the speakers.
    moderator = new_page(browser, viewport=DESKTOP)
    login(moderator, base, "mod")
    moderator.goto(f"{base}/sessions/{session.pk}/")
    moderator.wait_for_selector("#live-status.online")
    for pane in ("agenda", "join", "floor"):
        moderator.click(f".screen-choice[data-screen='{pane}']")
        wait_pane(screen, pane)
        moderator.wait_for_selector(f".screen-choice[data-screen='{pane}'][aria-pressed='true']")
        fits(screen, f"projector-{pane}-{size}", docs=f"big-screen-{pane}-zh" if size == "1920" else "")
    assert MeetingRoom.objects.get(pk=room.pk).screen == "floor"

    # A reload shows what the room sees.
    screen.reload()
    wait_pane(screen, "floor")

    # The moderator closes the vote (asked first) and shows its result.
    card = moderator.locator(f"#motion-{motion.pk}")
    card.locator("summary.close-motion-ask").click()
    card.locator("button.close-motion").click()
    moderator.wait_for_selector(f"#motion-{motion.pk}[data-state='closed'] .show-on-screen")
    moderator.click(f"#motion-{motion.pk} .show-on-screen")
    wait_pane(screen, "result")
    screen.wait_for_selector("#screen-result .outcome")
    fits(screen, f"projector-result-{size}", docs=f"big-screen-result-{size}-zh")
    screen.reload()
    wait_pane(screen, "result")
    assert screen.is_visible("#screen-result .outcome")


def test_the_agenda_pane_lists_every_item_and_marks_the_current_one(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    session = tx_world.session
    for i, title in enumerate(["车辆登记办法", "新增车位分配方案"], start=1):
        AgendaItem.objects.create(session=session, position=i, title=title)
    services.agenda_item_start(session=session, by=tx_world.moderator)
    room = services.projector_show(session=session, by=tx_world.moderator, screen="agenda")
    screen = new_page(browser, viewport=SIZES["1280"])
    screen.goto(f"{daphne_server.url}/projector/{room.projector_token}/")
    wait_pane(screen, "agenda")
    assert screen.locator(".screen-agenda-item").count() == 2
    assert "车辆登记办法" in screen.inner_text(".screen-agenda-item.is-current")
    assert "车辆登记办法" in screen.inner_text("#screen-now-item")


def test_a_warning_before_the_speaking_time_runs_out(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    session = tx_world.session
    room = services.meeting_room_ensure(session=session)
    services.projector_sound_set(session=session, by=tx_world.moderator, sound=True)
    services.hand_raise(session=session, user=tx_world.resident)
    request = services.floor_give(session=session, by=tx_world.moderator, limit_seconds=60)
    FloorRequest.objects.filter(pk=request.pk).update(started_at=timezone.now() - timedelta(seconds=20))
    screen = new_page(browser, viewport=SIZES["1920"])
    screen.goto(f"{daphne_server.url}/projector/{room.projector_token}/")
    wait_pane(screen, "floor")
    screen.wait_for_timeout(700)
    timer = screen.locator("#projector-floor .floor-timer")
    assert "warn" not in (timer.get_attribute("class") or "")  # 40 s left: not yet (for 60 s, the warning is at 15 s)
    assert screen.get_attribute("#screen", "data-tones") in (None, "0")
    # 13 s left: the timer turns orange and one tone sounds (the room's computer was clicked once).
    FloorRequest.objects.filter(pk=request.pk).update(started_at=timezone.now() - timedelta(seconds=47))
    screen.reload()
    screen.mouse.click(10, 10)
    screen.wait_for_selector("#projector-floor .floor-timer.warn", timeout=5000)
    background = screen.evaluate("() => getComputedStyle(document.querySelector('#projector-floor .floor-timer')).backgroundColor")
    assert background == "rgb(179, 92, 0)", background
    screen.wait_for_selector("#screen[data-tones='1']", timeout=3000)
    fits(screen, "projector-timer-warning-1920", docs="big-screen-timer-warning-zh")
    screen.wait_for_timeout(1200)
    assert screen.get_attribute("#screen", "data-tones") == "1"  # one tone per speaker, not one per tick
    # Over time: red.
    FloorRequest.objects.filter(pk=request.pk).update(started_at=timezone.now() - timedelta(seconds=70))
    screen.reload()
    screen.wait_for_selector("#projector-floor .floor-timer.overtime", timeout=5000)


@pytest.mark.parametrize("size", ["1920", "1280"])
def test_a_result_on_its_own_screen_has_no_site_header(tx_world: World, daphne_server, browser, size: str) -> None:  # type: ignore[no-untyped-def]
    from voting.services import motion_close

    session = tx_world.session
    motion = open_motion(session, tx_world.moderator, text="东门夜间划线停车")
    vote(motion, tx_world.resident, "yes")
    vote(motion, tx_world.resident2, "yes")
    motion_close(motion=motion, by=tx_world.moderator)
    page = new_page(browser, viewport=SIZES[size])
    login(page, daphne_server.url, "mod")
    page.goto(f"{daphne_server.url}/sessions/{session.pk}/motions/{motion.pk}/results/screen/")
    assert page.locator(".site-header").count() == 0
    assert page.is_visible(".outcome")
    title = page.locator(".screen-title").bounding_box()
    assert title is not None and title["height"] < 120  # one line, not squeezed to a column of characters
    fits(page, f"result-screen-{size}", docs=f"result-screen-{size}-zh")


def test_the_big_screen_in_english(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    from voting.services import motion_close

    base = daphne_server.url
    session = tx_world.session
    AgendaItem.objects.create(session=session, position=1, title="Registering cars")
    AgendaItem.objects.create(session=session, position=2, title="New parking spaces")
    services.agenda_item_start(session=session, by=tx_world.moderator)
    room = services.meeting_room_ensure(session=session)
    motion = open_motion(
        session, tx_world.moderator, text="Night parking on the lot outside the east gate", secret=False, results_live=True
    )
    vote(motion, tx_world.resident, "yes")
    vote(motion, tx_world.resident2, "yes")
    screen = new_page(browser, viewport=SIZES["1920"], language="en", base_url=base)
    screen.goto(f"{base}/projector/{room.projector_token}/")
    wait_pane(screen, "vote")
    assert "ballots cast" in screen.inner_text("#projector-vote")
    fits(screen, "projector-vote-en", docs="big-screen-vote-1920-en")
    for pane in ("agenda", "join"):
        services.projector_show(session=session, by=tx_world.moderator, screen=pane)
        screen.reload()
        wait_pane(screen, pane)
        fits(screen, f"projector-{pane}-en", docs=f"big-screen-{pane}-en")
    motion_close(motion=motion, by=tx_world.moderator)
    services.projector_show(session=session, by=tx_world.moderator, screen="result", motion_id=motion.pk)
    screen.reload()
    wait_pane(screen, "result")
    assert "Passed" in screen.inner_text("#screen-result .outcome")
    fits(screen, "projector-result-en", docs="big-screen-result-1920-en")
