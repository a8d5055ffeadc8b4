"""The resident's live room on a phone (issue 17, docs/live-page.md): a bottom bar of the page's
parts with every primary action one tap away and on screen, the composer docked, open votes first
and closed ones collapsed, a banner at once when a vote opens or the floor is yours, paged history,
offline sending that keeps the text and posts it once, a hidden message explained to its author,
and the household's ballot taken by another member shown without a reload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from agora.roster.models import Resident
from sessions.models import AgendaItem, Message
from tests.browser.conftest import DESKTOP, SCREENSHOTS, login, new_page
from tests.factories import World, resident_make
from tests.voting.helpers import open_motion, option, vote
from voting.services import MotionSettings, motion_close, motion_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(300)]

LIVE = "#live-status.online"
PHONES = {"390x844": {"width": 390, "height": 844}, "360x640": {"width": 360, "height": 640}}

# Where an element is on the screen, and whether the bar or the docked composer covers it.
IN_VIEW = """(selector) => {
  const el = Array.from(document.querySelectorAll(selector)).find(e => e.getClientRects().length);
  if (!el) return {found: false};
  const r = el.getBoundingClientRect();
  const bar = document.getElementById('room-tabs').getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + Math.min(r.height / 2, 20);
  const hit = document.elementFromPoint(cx, cy);
  return {found: true, top: r.top, bottom: r.bottom, height: window.innerHeight, barTop: bar.top,
          onTop: !!hit && (hit === el || el.contains(hit))};
}"""


def screen(page: Any, name: str) -> None:
    """What the phone shows (the viewport, not the whole page: the bar and banners are fixed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def in_view(page: Any, selector: str) -> dict[str, Any]:
    box = page.evaluate(IN_VIEW, selector)
    assert box["found"], f"{selector} is not on the page"
    return box


def assert_on_screen(page: Any, selector: str, where: str, *, in_bar: bool = False) -> None:
    box = in_view(page, selector)
    limit = box["height"] if in_bar else box["barTop"] + 1
    assert box["top"] >= 0 and box["bottom"] <= limit, f"{selector} {where}: {box}"
    assert box["onTop"], f"{selector} {where} is covered: {box}"


def _messages(world: World, n: int, start: int = 1) -> None:
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            session=world.session,
            author=world.resident2 if i % 2 else world.resident,
            seq=i,
            text_html=f"第{i}条意见：东门晚上车很多，建议划线。",
            created_at=now - timedelta(minutes=n - i),
        )
        for i in range(start, start + n)
    )


def _room(world: World, *, messages: int = 40) -> None:
    for i, title in enumerate(["车位分配方案", "租户的车位", "充电桩"], start=1):
        AgendaItem.objects.create(session=world.session, position=i, title=title, planned_minutes=10)
    _messages(world, messages)
    closed = open_motion(world.session, world.moderator, text="去年的车位方案继续执行")
    vote(closed, world.resident, "yes")
    motion_close(motion=closed, by=world.moderator)
    open_motion(world.session, world.moderator, text="东门夜间划线停车")


@pytest.mark.parametrize("size", list(PHONES))
def test_every_primary_action_is_one_tap_away_and_on_screen(tx_world: World, daphne_server, browser, size: str) -> None:  # type: ignore[no-untyped-def]
    _room(tx_world)
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    for language in ("zh-hans", "en"):
        for elder in (False, True):
            where = f"{size} {language}{' elder' if elder else ''}"
            page = new_page(browser, viewport=PHONES[size], language=language, elder=elder, base_url=base)
            login(page, base, "res1")
            page.goto(url)
            page.wait_for_selector(LIVE)
            assert page.locator("#room-tabs .room-tab").count() == 4, where
            # Open votes first; a closed one shows its outcome and keeps the rest folded.
            states = page.eval_on_selector_all("#motion-list .motion", "els => els.map(e => e.dataset.state)")
            assert states == ["open", "closed"], where
            closed = page.locator(".motion[data-state=closed] details.motion-closed")
            assert closed.get_attribute("open") is None and closed.locator("summary .summary-outcome").is_visible(), where
            assert page.locator("#tab-votes-badge").inner_text() == "1", where

            for start in ("top", "bottom"):
                page.evaluate("window.scrollTo(0, 0)" if start == "top" else "window.scrollTo(0, document.body.scrollHeight)")
                assert_on_screen(page, "#room-tabs #tab-discussion", f"{where}, from the {start}", in_bar=True)
                page.click("#tab-discussion")
                assert_on_screen(page, "#send", f"{where}, 讨论 from the {start}")
                assert_on_screen(page, "#id_text", f"{where}, 讨论 from the {start}")
                page.click("#tab-floor")
                assert_on_screen(page, "#hand-raise", f"{where}, 发言 from the {start}")
                page.click("#tab-votes")
                assert_on_screen(page, ".motion[data-state=open] button.cast", f"{where}, 表决 from the {start}")
                assert page.get_attribute("#tab-votes", "aria-current") == "location", where
                page.click("#tab-agenda")
                assert_on_screen(page, "#h-agenda", f"{where}, 议程 from the {start}")

            # Reading in the middle of the discussion, the composer is docked on screen.
            page.evaluate("document.getElementById('msg-20').scrollIntoView({block: 'center'})")
            assert_on_screen(page, "#send", f"{where}, reading message 20")
            page.wait_for_function("() => document.getElementById('tab-discussion').getAttribute('aria-current') === 'location'")
            mode = f"{size}-{language}{'-elder' if elder else ''}"
            page.click("#tab-discussion")
            screen(page, f"room-discussion-{mode}")
            page.click("#tab-votes")
            screen(page, f"room-votes-{mode}")
            page.click("#tab-floor")
            screen(page, f"room-floor-{mode}")
            page.context.close()


def test_a_vote_that_opens_and_the_floor_given_show_at_once(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    _room(tx_world, messages=30)
    motion = motion_create(session=tx_world.session, by=tx_world.moderator, text="充电桩装在地库西侧", settings=MotionSettings())
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    moderator = new_page(browser, viewport=DESKTOP)
    login(moderator, base, "mod")
    moderator.goto(url)
    moderator.wait_for_selector(LIVE)
    alice = new_page(browser, base_url=base)
    login(alice, base, "res1")
    alice.goto(url)
    alice.wait_for_selector(LIVE)
    alice.click("#tab-discussion")  # reading the discussion, far below the votes
    assert alice.locator("#room-alert").is_hidden()

    moderator.evaluate("id => window.AgoraLive.send({type: 'motion.open', motion_id: id, client_id: 'm' + id + '-1'})", motion.pk)
    alice.wait_for_selector("#room-alert:not([hidden])")
    box = alice.evaluate(
        "() => { const r = document.getElementById('room-alert').getBoundingClientRect(); return [r.top, r.bottom, innerHeight]; }"
    )
    assert box[0] == 0 and box[1] < box[2] / 2, box
    assert "充电桩装在地库西侧" in alice.inner_text("#room-alert-text")
    # Screen readers hear the question and the count, not only that a vote opened.
    alice.wait_for_function("() => document.getElementById('announcer').textContent.includes('充电桩装在地库西侧')")
    said = alice.inner_text("#announcer")
    assert "已投 0 票" in said, said
    screen(alice, "room-vote-opened-390x844-zh-hans")
    alice.click("#room-alert-go")  # one tap to the ballot
    assert_on_screen(alice, f"#motion-{motion.pk} button.cast", "after the banner's tap")
    assert alice.locator("#room-alert").is_hidden()

    # The floor: Alice raises her hand; when the moderator gives it, a banner tells her.
    alice.click("#tab-floor")
    alice.click("#hand-raise")
    alice.wait_for_selector("#hand-lower", state="visible")
    alice.click("#tab-discussion")
    moderator.wait_for_selector("#floor-next")
    moderator.evaluate("() => window.AgoraLive.send({type: 'floor.give', client_id: 'f1'})")
    alice.wait_for_selector("#room-alert:not([hidden])")
    text = alice.inner_text("#room-alert-text")
    assert "发言" in text, text
    alice.click("#room-alert-go")
    assert_on_screen(alice, "#meeting-floor .speaker-name", "after the floor banner's tap")


def test_the_page_shows_the_latest_messages_and_earlier_ones_on_request(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    _messages(tx_world, 250)
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    page = new_page(browser, base_url=base)
    login(page, base, "res1")
    response = page.goto(url)
    assert len(response.body()) < 100_000
    page.wait_for_selector(LIVE)
    seqs = page.eval_on_selector_all("#messages .message", "els => els.map(e => Number(e.dataset.seq))")
    assert seqs == list(range(171, 251))
    for shown in (160, 240, 250):
        page.click("#load-earlier")
        page.wait_for_function(f"() => document.querySelectorAll('#messages .message').length === {shown}")
    assert page.locator("#load-earlier").count() == 0
    seqs = page.eval_on_selector_all("#messages .message", "els => els.map(e => Number(e.dataset.seq))")
    assert seqs == list(range(1, 251))

    # Without JavaScript the same link is a page of earlier messages.
    plain = new_page(browser, base_url=base, javascript=False)
    login(plain, base, "res1")
    plain.goto(url)
    plain.click("#load-earlier")
    plain.wait_for_url("**before=171**")
    seqs = plain.eval_on_selector_all("#messages .message", "els => els.map(e => Number(e.dataset.seq))")
    assert seqs == list(range(91, 171))
    assert plain.locator("#show-latest").count() == 1


def test_offline_keeps_the_message_and_sends_it_once_when_back(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    alice, bob = new_page(browser, base_url=base), new_page(browser, base_url=base)
    for page, name in ((alice, "res1"), (bob, "res2")):
        login(page, base, name)
        page.goto(url)
        page.wait_for_selector(LIVE)
    alice.context.set_offline(True)
    alice.fill("#id_text", "地铁里没信号，先写好。")
    alice.click("#send")
    # Still in the app: a banner in view says so, the text is kept, sending waits.
    assert alice.url.startswith(url)
    alice.wait_for_selector("#room-offline-text", state="visible")
    box = alice.evaluate(
        "() => { const r = document.getElementById('room-offline-text').getBoundingClientRect(); return [r.top, r.bottom, innerHeight]; }"
    )
    assert box[0] >= 0 and box[1] <= box[2], box
    alice.evaluate("window.scrollTo(0, 0)")
    assert_on_screen(alice, "#room-offline-text", "offline, at the top of the page")
    assert alice.input_value("#id_text") == "地铁里没信号，先写好。"
    assert alice.is_disabled("#send")
    alice.click("#tab-discussion")
    screen(alice, "room-offline-390x844-zh-hans")
    assert Message.objects.filter(session=tx_world.session).count() == 0

    alice.context.set_offline(False)
    alice.wait_for_function("() => document.getElementById('id_text').value === ''", timeout=20_000)
    bob.wait_for_selector("#messages .message:has-text('地铁里没信号')")
    alice.wait_for_selector("#room-offline-text", state="hidden")
    assert alice.locator("#messages .message:has-text('地铁里没信号')").count() == 1
    assert bob.locator("#messages .message:has-text('地铁里没信号')").count() == 1
    assert Message.objects.filter(session=tx_world.session).count() == 1


def test_a_hidden_message_tells_its_author_why(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    moderator = new_page(browser, viewport=DESKTOP)
    login(moderator, base, "mod")
    moderator.goto(url)
    moderator.wait_for_selector(LIVE)
    alice, bob = new_page(browser, base_url=base), new_page(browser, base_url=base)
    for page, name in ((alice, "res1"), (bob, "res2")):
        login(page, base, name)
        page.goto(url)
        page.wait_for_selector(LIVE)
    alice.fill("#id_text", "3号楼的张三天天乱停车")
    alice.click("#send")
    bob.wait_for_selector("#messages .message:has-text('张三')")
    message = Message.objects.get(session=tx_world.session)
    moderator.evaluate(
        "id => window.AgoraLive.send({type: 'message.hide', message_id: id, reason: '请不要点名批评邻居', client_id: 'h1'})", message.pk
    )
    bob.wait_for_selector("#messages .message:has-text('张三')", state="detached")
    alice.wait_for_selector("#msg-1.own-hidden")
    note = alice.inner_text("#msg-1 .own-hidden-note")
    assert "请不要点名批评邻居" in note and "隐藏" in note, note
    alice.reload()
    alice.wait_for_selector(LIVE)
    assert "请不要点名批评邻居" in alice.inner_text("#msg-1 .own-hidden-note")
    bob.reload()
    assert bob.locator("#msg-1").count() == 0 and "请不要点名批评邻居" not in bob.content()


def test_household_mode_the_other_members_ballot_says_who_voted(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    household = Resident.objects.get(user=tx_world.resident).household
    spouse = resident_make(tx_world.community, "res4", tags=[tx_world.car_owner], household=household)
    spouse.first_name = "李梅"
    spouse.save()
    tx_world.resident.first_name = "王强"
    tx_world.resident.save()
    motion = open_motion(tx_world.session, tx_world.moderator, text="每户一票：地库划线", ballot_unit="household")
    base = daphne_server.url
    url = f"{base}/sessions/{tx_world.session.pk}/"
    me, partner = new_page(browser, base_url=base), new_page(browser, base_url=base)
    for page, name in ((me, "res1"), (partner, "res4")):
        login(page, base, name)
        page.goto(url)
        page.wait_for_selector(LIVE)
    form = f"#motion-{motion.pk} .ballot-form"
    partner.wait_for_selector(form, state="visible")
    me.check(f"{form} input[name=choice][value='{option(motion, 'yes')}']")
    me.click(f"{form} button.cast")
    me.wait_for_selector(f"#motion-{motion.pk} .ballot-status .receipt")
    partner.wait_for_selector(f"#motion-{motion.pk} .household-voted")
    assert "您家已由王强投票" in partner.inner_text(f"#motion-{motion.pk} .household-voted")
    assert partner.locator(form).is_hidden()
    partner.reload()
    partner.wait_for_selector(LIVE)
    assert "您家已由王强投票" in partner.inner_text(f"#motion-{motion.pk} .household-voted")
