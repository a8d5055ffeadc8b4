"""An owners' decision from draft to final in real Chromium against a real daphne server that goes
by this test's clock (its job worker opens and closes the period when the clock is moved):
the moderator drafts (bad input keeps what was typed), announces after seeing the notice; owners
vote online on a 390×844 phone in Chinese, in English and in elder mode, each with a receipt; a
second ballot and a tenant are refused with the sentence; the reminder banner follows an owner
until they vote; the preliminary result, an objection and its answer, the final announcement.
Screenshots: test-artifacts/screenshots/decisions-*.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agora.infra import clock
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, login, new_page
from tests.servers import DaphneServer, server_env
from tests.voting.decisions.helpers import decision_world
from voting.models import Channel, Decision, DecisionState, DecisionVote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(420)]


@pytest.fixture
def clocked_server(settings, tmp_path: Path, transactional_db: None) -> Iterator[DaphneServer]:  # type: ignore[no-untyped-def]
    clock_path = tmp_path / "clock"
    clock_path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(clock_path)
    server = DaphneServer.start(log_dir=tmp_path, env=server_env(extra={"AGORA_TEST_CLOCK_FILE": str(clock_path)}))
    try:
        yield server
    finally:
        server.stop()


def shot(page: Any, name: str, *, full: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"decisions-{name}.png"), full_page=full)


def no_sideways_scroll(page: Any, where: str) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{where}: the page scrolls sideways ({width})"


def wait_state(decision: Decision, state: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        decision.refresh_from_db()
        if decision.state == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"the job worker did not move the decision to {state} (it is {decision.state})")


def vote_on_phone(page: Any, url: str, decision: Decision, *, shots: str = "") -> str:
    page.goto(f"{url}/decisions/{decision.pk}/vote/")
    no_sideways_scroll(page, "the ballot")
    if shots:
        shot(page, f"ballot-{shots}")
    for matter in page.locator(".ballot-matter").all():
        matter.locator(".choice-yes").click()
    page.click("#ballot-next")
    assert page.locator(".confirm-choice").count() == 2
    if shots:
        shot(page, f"confirm-{shots}")
    page.click("#cast")
    receipt = page.locator("#receipt-code").inner_text()
    assert len(receipt) >= 20
    no_sideways_scroll(page, "the receipt")
    if shots:
        shot(page, f"receipt-{shots}")
    return receipt


def test_a_decision_from_draft_to_final_in_the_browser(clocked_server: DaphneServer, browser: Any) -> None:
    decision_world()
    url = clocked_server.url

    # The moderator drafts on a desktop; a wrong end keeps everything typed.
    mod = new_page(browser, viewport=DESKTOP, base_url=url)
    login(mod, url, "mod")
    mod.click("nav.site-nav >> text=业主表决")
    mod.click("#new-decision")
    mod.fill("#id_title", "关于增设停车位的业主共同决定")
    mod.fill("#id_description", "东侧空地改建停车场，费用由公共收益支出。")
    mod.fill("#id_m1_text", "在小区东侧空地增设70个停车位")
    mod.select_option("#id_m1_kind", "art278_major")
    mod.fill("#id_m1_description", "施工期约两个月。")
    mod.fill("#id_m2_text", "停车位按摇号分配")
    mod.select_option("#id_m2_kind", "approve_reject")
    opens = mod.input_value("#id_opens_at")
    mod.fill("#id_closes_at", opens.replace("T09:00", "T08:00"))
    mod.click("#save-draft")
    assert "投票截止时间必须晚于开始时间" in mod.locator("#form-error").inner_text()
    assert mod.input_value("#id_title") == "关于增设停车位的业主共同决定"
    assert mod.input_value("#id_m1_description") == "施工期约两个月。"
    assert mod.input_value("#id_m1_kind") == "art278_major"
    shot(mod, "create-refused-zh-desktop")
    # "Add a matter" posts the form back with one more row and nothing lost.
    mod.click("button[name=add_matter]")
    assert mod.locator("#id_m4_text").count() == 1 and mod.input_value("#id_m2_text") == "停车位按摇号分配"
    closes = (clock.now() + timedelta(days=26)).astimezone().strftime("%Y-%m-%dT23:59")
    mod.fill("#id_closes_at", closes)
    mod.click("#save-draft")
    mod.wait_for_selector("#announce")
    d = Decision.objects.get()
    assert d.state == DecisionState.DRAFT and d.matters.count() == 2
    mod.click("#announce")
    assert "在小区东侧空地增设70个停车位" in mod.locator(".notice-preview").inner_text()
    shot(mod, "announce-confirm-zh-desktop")
    mod.click("#announce-yes")
    assert "投票将于" in mod.locator("#state-line").inner_text()
    shot(mod, "detail-announced-zh-desktop")
    d.refresh_from_db()
    assert d.state == DecisionState.ANNOUNCED

    # The period opens on the job runner when the clock reaches the start.
    clock.advance((d.opens_at - clock.now()).total_seconds() + 30)
    wait_state(d, DecisionState.OPEN)

    # An owner on a phone: the banner on the first page after signing in, then the ballot.
    owner = new_page(browser, viewport=PHONE, base_url=url)
    login(owner, url, "owner1101")
    banner = owner.locator("#decision-reminder")
    assert "正在表决，您家尚未投票" in banner.inner_text()
    shot(owner, "banner-zh-phone", full=False)
    banner.locator(".reminder-dismiss").click()  # hidden on this page only
    assert owner.locator("#decision-reminder").count() == 0
    owner.goto(f"{url}/archive/")
    assert owner.locator("#decision-reminder").count() == 1
    owner.locator("#decision-reminder .reminder-go").click()
    owner.wait_for_url(f"**/decisions/{d.pk}/vote/")
    assert "1号楼-1-101" in owner.locator("#weight").inner_text() and "80.50" in owner.locator("#weight").inner_text()
    vote_on_phone(owner, url, d, shots="zh-phone")
    owner.goto(f"{url}/sessions/")
    assert owner.locator("#decision-reminder").count() == 0  # voted: no more banner
    # A second ballot for the unit is refused with how and when it voted.
    owner.goto(f"{url}/decisions/{d.pk}/vote/")
    assert "在线" in owner.locator("#refusal").inner_text() and "只计一次" in owner.locator("#refusal").inner_text()
    shot(owner, "already-voted-zh-phone")

    # In English, and in elder mode.
    english = new_page(browser, viewport=PHONE, language="en", base_url=url)
    login(english, url, "owner1102")
    english.goto(f"{url}/decisions/{d.pk}/")
    assert "Voting is open until" in english.locator("#state-line").inner_text()
    shot(english, "detail-open-en-phone")
    vote_on_phone(english, url, d, shots="en-phone")
    elder = new_page(browser, viewport=PHONE, elder=True, base_url=url)
    login(elder, url, "owner1201")
    vote_on_phone(elder, url, d, shots="zh-elder-phone")
    heights = elder.eval_on_selector_all(".button", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 59.5

    # A tenant is refused with the sentence.
    tenant = new_page(browser, viewport=PHONE, base_url=url)
    login(tenant, url, "tenant1")
    tenant.goto(f"{url}/decisions/{d.pk}/vote/")
    assert "只有业主可以参加本次表决" in tenant.locator("#refusal").inner_text()
    assert DecisionVote.objects.filter(decision=d, channel=Channel.ONLINE).count() == 3

    # The moderator extends the period; the extension notice says why.
    mod.goto(f"{url}/decisions/{d.pk}/extend/")
    mod.fill("#id_reason", "因业主表决票不足")
    mod.click("#extend-yes")  # the box is not ticked: the browser asks for it
    assert mod.url.endswith("/extend/")
    mod.check("#id_confirmed")
    mod.click("#extend-yes")
    mod.wait_for_selector("#state-line")
    d.refresh_from_db()
    extended = d.steps.get(kind="extended")
    mod.click(f"a[href='/decisions/{d.pk}/notices/{extended.pk}/']")
    assert "因业主表决票不足" in mod.locator(".notice").inner_text()

    # The close publishes the preliminary result; an owner objects, the moderator answers.
    clock.advance((d.closes_at - clock.now()).total_seconds() + 30)
    wait_state(d, DecisionState.PRELIMINARY)
    owner.goto(f"{url}/decisions/{d.pk}/")
    assert "初步结果公示中" in owner.locator("#state-line").inner_text()
    owner.fill("#id_text", "3号楼的面积登记有误")
    owner.click("#lodge-objection")
    owner.wait_for_selector(".objection")
    mod.goto(f"{url}/decisions/{d.pk}/")
    objection = d.objections.get()
    mod.fill(f"#id_a{objection.pk}-answer", "已复核名册，面积无误。")
    mod.locator(f"#objection-{objection.pk} button[type=submit]").click()
    owner.goto(f"{url}/decisions/{d.pk}/")
    assert "已复核名册，面积无误。" in owner.locator("#objections").inner_text()
    shot(owner, "preliminary-zh-phone")

    # After the objection window the moderator makes it final, naming the counting officers.
    clock.advance(4 * 86400)
    mod.goto(f"{url}/decisions/{d.pk}/")
    mod.click("#finalize")
    mod.fill("#id_counting_officers", "张三\n李四")
    mod.check("#id_confirmed")
    mod.click("#finalize-yes")
    assert "已生效" in mod.locator("#state-line").inner_text()
    d.refresh_from_db()
    assert d.state == DecisionState.FINAL
    # The final announcement is public, as on the notice board.
    anyone = new_page(browser, viewport=PHONE, base_url=url)
    final = d.steps.get(kind="final")
    anyone.goto(f"{url}/decisions/{d.pk}/notices/{final.pk}/")
    text = anyone.locator(".notice").inner_text()
    assert "张三" in text and "已复核名册，面积无误。" in text and final.content_hash in anyone.content()
    no_sideways_scroll(anyone, "the final announcement")
    shot(anyone, "final-notice-zh-phone")
    owner.goto(f"{url}/archive/")
    assert d.title in owner.locator(".archive-decisions").inner_text()


def test_an_owner_votes_in_the_room_from_the_session_page_on_a_phone(clocked_server: DaphneServer, browser: Any) -> None:
    from sessions.models import SessionState
    from tests.factories import session_make
    from tests.voting.decisions.helpers import open_decision

    dw = decision_world()
    session = session_make(dw.community, dw.moderator, state=SessionState.LIVE, title="停车位议事会")
    d = open_decision(dw, session_ids=[session.pk])
    url = clocked_server.url
    page = new_page(browser, viewport=PHONE, base_url=url)
    login(page, url, "owner1101")
    page.goto(f"{url}/sessions/{session.pk}/")
    panel = page.locator("#decisions-room")
    assert "正在表决的业主决定" in panel.inner_text() and "在小区东侧空地增设70个停车位" in panel.inner_text()
    for matter in panel.locator(".ballot-matter").all():
        matter.locator(".choice-no").click()
    panel.screenshot(path=str(SCREENSHOTS / "decisions-room-panel-zh-phone.png"))
    panel.locator("button[type=submit]").click()
    assert page.locator(".confirm-choice").all_inner_texts() == ["反对", "反对"]
    page.click("#cast")
    assert len(page.locator("#receipt-code").inner_text()) >= 20
    page.click("text=返回会议")
    page.wait_for_url(f"**/sessions/{session.pk}/")
    assert "在会场" in page.locator("#decisions-room").inner_text()
    assert DecisionVote.objects.get(decision=d).channel == Channel.IN_PERSON


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_decision_pages_pass_axe_on_a_phone_in_both_modes(clocked_server: DaphneServer, browser: Any, language: str) -> None:
    from tests.browser.test_accessibility import DESCRIBED_BY_JS, HORIZONTAL_OVERFLOW_JS, axe_violations, describe
    from tests.voting.decisions.helpers import draft_decision, open_decision

    dw = decision_world()
    d = open_decision(dw)
    draft = draft_decision(dw, days_until_open=5)
    url = clocked_server.url
    notice = d.steps.get(kind="announced")
    problems: list[str] = []

    def scan(page: Any, name: str, elder: bool) -> None:
        where = f"{name} ({language}{', elder' if elder else ''})"
        problems.extend(describe(where, v) for v in axe_violations(page, elder=elder))
        problems.extend(f"{where}: {p}" for p in page.evaluate(HORIZONTAL_OVERFLOW_JS))
        problems.extend(f"{where}: {p}" for p in page.evaluate(DESCRIBED_BY_JS))

    for elder in (False, True):
        owner = new_page(browser, viewport=PHONE, language=language, elder=elder, base_url=url)
        login(owner, url, "owner1101" if not elder else "owner1102")
        for name, path in (
            ("detail", f"/decisions/{d.pk}/"),
            ("list", "/decisions/"),
            ("notice", f"/decisions/{d.pk}/notices/{notice.pk}/"),
        ):
            owner.goto(url + path)
            scan(owner, name, elder)
        owner.goto(f"{url}/decisions/{d.pk}/vote/")
        scan(owner, "ballot", elder)
        owner.locator("#ballot-next").click()  # nothing chosen: the sentence above the form
        scan(owner, "ballot-refused", elder)
        for matter in owner.locator(".ballot-matter").all():
            matter.locator(".choice-abstain").click()
        owner.locator("#ballot-next").click()
        scan(owner, "ballot-confirm", elder)
        owner.locator("#cast").click()
        scan(owner, "receipt", elder)
        mod = new_page(browser, viewport=PHONE, language=language, elder=elder, base_url=url)
        login(mod, url, "mod")
        mod.goto(f"{url}/decisions/c/{dw.community.slug}/new/")
        mod.locator("#save-draft").click()
        scan(mod, "create-refused", elder)
        for name, path in (("announce", f"/decisions/{draft.pk}/announce/"), ("extend", f"/decisions/{d.pk}/extend/")):
            mod.goto(url + path)
            scan(mod, name, elder)
        owner.context.close()
        mod.context.close()
    assert not problems, "\n".join(problems)
