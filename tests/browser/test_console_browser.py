"""The moderator's console in real Chromium: two panes on a desktop, one menu per message, the next
step always in view (and current as votes close), adjourning safely (confirmed, refused or closing
the open votes, undone in the grace period), closing a vote and publishing minutes confirmed with
and without JavaScript, a start time in the past warned, an added agenda item said at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from agora.roster.models import AuditEvent
from sessions.meeting import services as meeting_services
from sessions.models import AgendaItem, Message, SessionState, TopicSession
from sessions.services import message_post
from tests.browser.conftest import SCREENSHOTS, login, new_page
from tests.factories import World
from tests.servers import ROOT
from tests.voting.helpers import open_motion, vote
from voting.models import Motion, MotionState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 800}
WIDE = {"width": 1600, "height": 900}
DOCS = ROOT / "docs" / "screenshots"


def in_view(page: Any, selector: str) -> bool:
    size = page.viewport_size
    for _attempt in range(5):  # the next step may be re-rendered just then (console.js refreshes it)
        box = page.locator(selector).bounding_box()
        if box:
            inside_y = box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
            return inside_y and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
        page.wait_for_timeout(100)
    return False


def shot(page: Any, name: str, *, docs: bool = False) -> None:
    for folder in [SCREENSHOTS, *([DOCS] if docs else [])]:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def a_busy_meeting(world: World) -> Motion:
    session = world.session
    for i, title in enumerate(["车辆登记办法", "新增车位分配方案", "租户停车怎么算"], start=1):
        AgendaItem.objects.create(session=session, position=i, title=title, planned_minutes=15)
    meeting_services.meeting_room_ensure(session=session)
    meeting_services.agenda_item_start(session=session, by=world.moderator)
    texts = ["我家有两辆车，希望按户分配停车位", "租户也应该有机会申请车位", "地库改造预算多少？", "东门外面晚上能不能停车？"]
    for i in range(13):
        m = message_post(session=session, author=(world.resident, world.resident2)[i % 2], text=f"{texts[i % 4]}（{i + 1}）")
        Message.objects.filter(pk=m.pk).update(created_at=timezone.now() - timedelta(minutes=30 - i))  # a meeting, not a burst
    meeting_services.hand_raise(session=session, user=world.resident)
    motion = open_motion(session, world.moderator, text="东门外侧空地夜间划线停车", secret=False, results_live=True)
    vote(motion, world.resident, "yes")
    return motion


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_two_panes_one_menu_per_message_and_the_next_step_in_view(tx_world: World, daphne_server, browser, language: str) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    motion = a_busy_meeting(tx_world)
    page = new_page(browser, viewport=DESKTOP, language=language, base_url=base)
    login(page, base, "mod")
    page.goto(f"{base}/sessions/{tx_world.session.pk}/")
    page.wait_for_selector("#live-status.online")

    # Two panes: the discussion on the left, the queue, agenda, votes and attendance on the right.
    discussion = page.locator("#discussion").bounding_box()
    assert discussion and discussion["x"] < 100 and discussion["width"] < 760
    for right in ("#console-head", "#motions", "#meeting-floor", "#meeting-agenda", "#meeting-attendance"):
        box = page.locator(right).bounding_box()
        assert box and box["x"] > discussion["x"] + discussion["width"], right
    page.mouse.wheel(0, 400)  # past the session's title: the discussion pane stays, its list scrolls by itself
    page.wait_for_timeout(300)
    assert in_view(page, "#composer") and in_view(page, "#h-discussion")
    page.mouse.wheel(0, 20000)
    page.wait_for_timeout(300)
    assert in_view(page, "#composer") and in_view(page, "#h-discussion")
    page.mouse.wheel(0, -20000)

    # One menu per message: its actions take no room until it is opened.
    messages = page.locator("#messages .message")
    assert messages.count() == 13
    for i in range(messages.count()):
        message = messages.nth(i)
        assert message.locator("summary.msg-menu-open").count() == 1
        assert message.locator(":is(.msg-pin, .msg-hide, .msg-mute, .msg-remove):visible").count() == 0  # in the menu, closed
        assert (message.bounding_box() or {"height": 999})["height"] < 170
    menu = messages.nth(12)
    menu.locator("summary.msg-menu-open").click()
    assert menu.locator(".msg-pin").is_visible() and menu.locator(".msg-hide").is_visible() and menu.locator(".msg-mute").is_visible()
    page.keyboard.press("Escape")

    # The next step is on screen wherever the page is scrolled.
    text = "1 项表决仍在进行" if language == "zh-hans" else "1 vote is still open"
    page.wait_for_selector(f"#next-step:has-text('{text}')")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"console-desktop-{'zh' if language == 'zh-hans' else 'en'}", docs=True)
    page.mouse.wheel(0, 20000)
    page.wait_for_timeout(300)
    assert in_view(page, "#next-step") and in_view(page, "#next-votes") and in_view(page, "#adjourn-session")

    # Closing the vote early asks first; then the next step moves on by itself.
    card = page.locator(f"#motion-{motion.pk}")
    card.locator("summary.close-motion-ask").click()
    assert card.locator(".confirm-box").is_visible()
    card.locator("button.close-motion").click()
    page.wait_for_selector(f"#motion-{motion.pk}[data-state='closed']")
    page.wait_for_selector("#next-step[data-action='agenda_next']")
    assert in_view(page, "#next-step")


def test_adjourning_asks_closes_the_open_vote_and_can_be_undone(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    session = tx_world.session
    motion = a_busy_meeting(tx_world)
    page = new_page(browser, viewport=DESKTOP)
    login(page, base, "mod")
    page.goto(f"{base}/sessions/{session.pk}/")
    page.wait_for_selector("#live-status.online")

    page.click("#adjourn-session")
    page.wait_for_url("**/adjourn/confirm/")
    assert "确定休会吗？" in page.inner_text("h1")
    assert "还有 1 项表决正在进行" in page.inner_text("#votes-open-warning")
    page.click("#adjourn-confirm")  # the box is not ticked: the browser keeps the form
    assert "/adjourn/confirm/" in page.url
    assert TopicSession.objects.get(pk=session.pk).state == SessionState.LIVE
    page.check("#close-votes")
    page.click("#adjourn-confirm")
    page.wait_for_selector("#next-step[data-action='draft_minutes']")
    assert TopicSession.objects.get(pk=session.pk).state == SessionState.ADJOURNED
    assert Motion.objects.get(pk=motion.pk).state == MotionState.CLOSED
    assert in_view(page, "#next-step #next-minutes") and in_view(page, "#adjourn-undo")
    shot(page, "console-adjourned-zh", docs=True)

    page.click("#adjourn-undo")
    page.wait_for_selector("#next-step[data-action='agenda_next']")
    assert TopicSession.objects.get(pk=session.pk).state == SessionState.LIVE
    assert AuditEvent.objects.filter(kind="session.adjourn_undone", actor=tx_world.moderator).count() == 1


def test_confirmations_work_without_javascript(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    from records.models import MinutesRecord

    base = daphne_server.url
    session = tx_world.session
    AgendaItem.objects.create(session=session, position=1, title="车辆登记办法")
    motion = open_motion(session, tx_world.moderator, text="东门夜间划线停车")
    page = new_page(browser, viewport=DESKTOP, javascript=False)
    login(page, base, "mod")
    page.goto(f"{base}/sessions/{session.pk}/")

    # Closing a vote early: the confirmation opens in place (details), no script needed.
    card = page.locator(f"#motion-{motion.pk}")
    card.locator("summary.close-motion-ask").click()
    card.locator("button.close-motion").click()
    page.wait_for_selector(f"#motion-{motion.pk}[data-state='closed']")

    # Adjourning: a page of its own asks.
    page.click("#adjourn-session")
    page.click("#adjourn-confirm")
    page.wait_for_selector("#next-step[data-action='draft_minutes']")
    assert TopicSession.objects.get(pk=session.pk).state == SessionState.ADJOURNED

    # Publishing the minutes: refused until the box is ticked; what was typed is kept.
    page.click("#next-minutes")
    summary = page.locator("textarea").first
    summary.fill("东门夜间划线停车，会后征求意见。")
    page.click("#publish-minutes")
    page.wait_for_selector(".flash-error")
    assert MinutesRecord.objects.count() == 0
    assert "东门夜间划线停车，会后征求意见。" in page.locator("textarea").first.input_value()
    page.check("#confirm-publish")
    page.click("#publish-minutes")
    page.wait_for_url("**/minutes/**")
    assert MinutesRecord.objects.count() == 1


def test_a_past_start_time_is_warned_and_an_added_agenda_item_is_said_at_once(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    page = new_page(browser, viewport=DESKTOP)
    login(page, base, "mod")

    # A start time in the past: said beside the field at once, then asked once more when saved.
    page.goto(f"{base}/sessions/new/{tx_world.community.slug}/")
    page.fill("#id_title", "电动车充电桩怎么装")
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_starts_at", past)
    page.wait_for_selector("#starts-at-past:visible")
    assert "已经过去" in page.inner_text("#starts-at-past")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#id_past_ok")
    assert page.input_value("#id_title") == "电动车充电桩怎么装"
    assert "已经过去" in page.inner_text(".field-error")
    assert not TopicSession.objects.filter(title="电动车充电桩怎么装").exists()
    page.check("#id_past_ok")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#next-step")
    created = TopicSession.objects.get(title="电动车充电桩怎么装")

    # Adding an agenda item (the session scheduled): the form says it was added, at once.
    page.click("#next-schedule")
    page.wait_for_selector("#live-status.online")
    page.wait_for_selector("#next-step:has-text('开始时间已过')")
    page.fill("#agenda-add-title", "充电桩选址")
    page.click("#agenda-add")
    page.wait_for_selector("#agenda-add-feedback:has-text('已添加议程：充电桩选址')", timeout=3000)
    assert page.input_value("#agenda-add-title") == ""
    assert AgendaItem.objects.filter(session=created, title="充电桩选址").exists()


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_on_a_phone_the_next_step_stays_in_view(tx_world: World, daphne_server, browser, elder: bool) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    a_busy_meeting(tx_world)
    page = new_page(browser, viewport={"width": 390, "height": 844}, elder=elder, base_url=base)
    login(page, base, "mod")
    page.goto(f"{base}/sessions/{tx_world.session.pk}/")
    page.wait_for_selector("#live-status.online")
    for y in (0, 1500, 6000, 100000):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(150)
        assert in_view(page, "#next-step") and in_view(page, "#next-votes"), y
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.evaluate("window.scrollTo(0, document.getElementById('motions').offsetTop - 120)")
    page.wait_for_timeout(150)
    shot(page, f"console-phone{'-elder' if elder else ''}-zh", docs=True)
