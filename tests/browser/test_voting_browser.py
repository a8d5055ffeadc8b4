"""A live vote in real Chromium: the moderator opens it, three residents vote from their
phones, the tally moves live, the moderator closes it and everyone sees the same result."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DESKTOP, login, new_page, screenshot
from tests.factories import World, resident_make
from tests.voting.helpers import open_motion, stored_ballots, stored_choices
from voting import services
from voting.models import Motion, MotionState
from voting.services import MotionSettings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_moderator_opens_three_residents_vote_everyone_sees_the_resolution(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    resident_make(tx_world.community, "res4", tags=[tx_world.car_owner], building="4号楼")
    motion = services.motion_create(
        session=tx_world.session, by=tx_world.moderator, text="东门夜间允许划线停车", settings=MotionSettings(secret=True)
    )
    url = f"{base}/sessions/{tx_world.session.pk}/"
    card = f"#motion-{motion.pk}"

    moderator = new_page(browser, viewport=DESKTOP)
    login(moderator, base, "mod")
    moderator.goto(url)
    moderator.wait_for_selector("#live-status.online")

    residents = []
    for name, language in (("res1", None), ("res2", None), ("res4", "en")):
        page = new_page(browser, language=language, base_url=base)
        login(page, base, name)
        page.goto(url)
        page.wait_for_selector("#live-status.online")
        assert page.locator(card).count() == 0  # a draft is the moderator's own
        residents.append(page)

    moderator.click(f"{card} .open-motion")
    for page in residents:
        page.wait_for_selector(f"{card} .ballot-form", state="visible", timeout=5000)

    choices = ["yes", "yes", "no"]
    for count, (page, choice) in enumerate(zip(residents, choices, strict=True), start=1):
        page.click(f"{card} .choice-{choice}")
        page.click(f"{card} button.cast")
        receipt = page.wait_for_selector(f"{card} .ballot-status code.receipt", timeout=5000).inner_text()
        assert len(receipt) >= 22
        # The room sees the number of ballots move at once (a secret vote shows only that).
        moderator.wait_for_function(
            "([sel, n]) => (document.querySelector(sel + ' .tally-ballots') || {}).textContent.includes(String(n))",
            arg=[card, count],
            timeout=3000,
        )
    # A refused ballot (a second device tries to change it) is answered next to the ballot, never
    # under the chat composer, where it would read as a chat error.
    first = residents[0]
    no_option = motion.options.get(code="no").pk
    first.evaluate(
        "([id, option]) => window.AgoraLive.send({type: 'ballot.cast', motion_id: id, choice: option,"
        " idempotency_key: 'second-device-key-0001', client_id: 'b' + id + '-99'})",
        [motion.pk, no_option],
    )
    first.wait_for_function("sel => (document.querySelector(sel + ' .ballot-error') || {}).textContent", arg=card, timeout=5000)
    assert "第一次投票的设备" in first.locator(f"{card} .ballot-error").inner_text()  # receipt_needed
    assert first.locator("#composer-error").is_hidden()
    live_tally = moderator.locator(f"{card} .tally").inner_text()
    assert "赞成" not in live_tally and "反对" not in live_tally  # secret: counts only
    screenshot(residents[0], "vote-resident-voted-zh-phone")

    # One phone loses its network just before the close; it must still get the result.
    away = residents[1]
    away.context.set_offline(True)
    away.wait_for_selector("#live-status.offline")
    moderator.click(f"{card} summary.close-motion-ask")  # closing early asks first
    moderator.click(f"{card} .close-motion")
    moderator.wait_for_selector(f"{card} .resolution")
    away.context.set_offline(False)
    tables = []
    for page in [moderator, *residents]:
        page.wait_for_selector(f"{card} .resolution[data-outcome=passed]", state="attached", timeout=10_000)
        # A phone that missed the close gets the vote again from the page, folded to its outcome
        # (docs/live-page.md); the resident opens it to read the table.
        page.evaluate("sel => document.querySelectorAll(sel + ' details.motion-closed').forEach(d => { d.open = true; })", card)
        page.wait_for_selector(f"{card} .resolution[data-outcome=passed]", timeout=5_000)
        tables.append(re.sub(r"\s+", " ", page.locator(f"{card} .tally-table tbody").inner_text()))
        assert page.locator(f"{card} svg.chart").count() == 1
    assert tables[0] == tables[1] == tables[2]  # the same result in the same language
    assert "通过" in moderator.locator(f"{card} .outcome").inner_text()
    assert "Passed" in residents[2].locator(f"{card} .outcome").inner_text()
    # Each voter's phone finds its receipt among the published hashes.
    for page in residents:
        page.wait_for_selector(f"{card} .receipt-check.ok", timeout=3000)
    motion = Motion.objects.get(pk=motion.pk)
    assert motion.state == MotionState.CLOSED and motion.resolution.data["participation"]["online"] == 3
    assert len(motion.resolution.receipt_hashes) == 3
    screenshot(residents[2], "vote-resolution-en-phone")
    screenshot(moderator, "vote-resolution-zh-desktop")

    projector = new_page(browser, viewport=DESKTOP)
    login(projector, base, "mod")
    projector.goto(f"{base}/sessions/{tx_world.session.pk}/motions/{motion.pk}/results/")
    assert "通过" in projector.locator(".outcome").inner_text()
    screenshot(projector, "vote-projector-zh")


def _elder_ballot_page(browser, base: str, *, javascript: bool, language: str | None = None):  # type: ignore[no-untyped-def]
    page = new_page(browser, language=language, elder=True, base_url=base, javascript=javascript)
    login(page, base, "res1")
    return page


@pytest.mark.parametrize("language", [None, "en"])
def test_elder_ballot_without_javascript_is_confirmed_on_its_own_page(tx_world: World, daphne_server, browser, language) -> None:  # type: ignore[no-untyped-def]
    """适老化 on a phone without JavaScript: the choice is shown in words, then cast once confirmed."""
    base = daphne_server.url
    motion = open_motion(tx_world.session, tx_world.moderator, text="东门夜间允许划线停车")
    card = f"#motion-{motion.pk}"
    page = _elder_ballot_page(browser, base, javascript=False, language=language)
    page.goto(f"{base}/sessions/{tx_world.session.pk}/")
    page.click(f"{card} .choice-no")
    page.click(f"{card} button.cast")
    page.wait_for_selector(".ballot-confirm-page")
    assert ("核对您的投票" if language is None else "Check your vote") in page.inner_text("h1")
    assert ("反对" if language is None else "No") in page.inner_text(".confirm-choices")
    assert not stored_ballots(motion)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20  # elder mode's size
    screenshot(page, f"vote-elder-confirm-nojs-{language or 'zh'}-phone")
    page.click(".confirm-yes")
    page.wait_for_selector("#receipt-code")
    assert stored_choices(motion) == [[motion.options.get(code="no").pk]]
    screenshot(page, f"vote-elder-receipt-nojs-{language or 'zh'}-phone")
    page.context.close()


def test_elder_ballot_with_javascript_but_no_live_connection_is_confirmed_once(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    """The page asks (live.js), the form posts (no live connection): the server does not ask again."""
    base = daphne_server.url
    motion = open_motion(tx_world.session, tx_world.moderator, text="东门夜间允许划线停车")
    card = f"#motion-{motion.pk}"
    page = _elder_ballot_page(browser, base, javascript=True)
    page.route_web_socket(re.compile(r".*/ws/.*"), lambda ws: ws.close())  # the live connection never stays up
    page.goto(f"{base}/sessions/{tx_world.session.pk}/")
    page.click(f"{card} .choice-yes")
    page.click(f"{card} button.cast")
    page.wait_for_selector(f"{card} .ballot-confirm")  # asked in the page
    page.click(f"{card} .confirm-yes")
    page.wait_for_selector("#receipt-code")  # straight to the receipt: no second question
    assert stored_choices(motion) == [[motion.options.get(code="yes").pk]]
    page.context.close()


def test_a_repeated_rank_is_refused_in_the_page_and_a_blank_approval_ballot_is_cast(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    """What the voter sets is what is sent: the same option at two ranks is refused with a
    sentence before anything is sent (it used to be silently shortened), and an approval ballot
    with nothing ticked is cast (docs/voting.md: it counts as taking part)."""
    base = daphne_server.url
    ranked = open_motion(tx_world.session, tx_world.moderator, kind="ranked", options=["摇号", "老人优先", "拍卖"])
    approval = open_motion(tx_world.session, tx_world.moderator, kind="approval", options=["周一", "周三"])
    page = new_page(browser, language="en", base_url=base)
    login(page, base, "res1")
    page.goto(f"{base}/sessions/{tx_world.session.pk}/")
    page.wait_for_selector("#live-status.online")

    card = f"#motion-{ranked.pk}"
    first = ranked.options.get(label="摇号").pk
    selects = page.locator(f"{card} select[name=rank]")
    selects.nth(0).select_option(str(first))
    selects.nth(1).select_option(str(first))
    page.click(f"{card} button.cast")
    error = page.wait_for_selector(f"{card} .ballot-error:not([hidden])", timeout=5000)
    assert "same option at two places" in error.inner_text()
    page.wait_for_timeout(300)
    assert not ranked.participations.exists()

    card = f"#motion-{approval.pk}"
    page.click(f"{card} button.cast")
    page.wait_for_selector(f"{card} .ballot-status code.receipt", timeout=5000)
    assert approval.participations.count() == 1
