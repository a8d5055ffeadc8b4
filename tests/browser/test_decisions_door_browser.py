"""Door to door and proxies in a real browser (voting/decisions/door/): a grid worker on a phone
(390×844 and 360×640, zh and en, elder mode) finds a unit by room, records the owner's ballot with
a reason, checks it with the owner and gets the receipt; the 扫楼 list; a moderator records a
proxy with its signed paper and revokes another after confirming; the holder votes for the
principal's unit. Screenshots: test-artifacts/screenshots/decisions-door-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, SCREENSHOTS, login, new_page
from tests.servers import DaphneServer, server_env
from tests.voting.decisions.helpers import DecisionWorld, decision_world, open_decision, unit_of
from voting.models import Channel, DecisionVote, Proxy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(300)]

PHONES = {"390x844": {"width": 390, "height": 844}, "360x640": {"width": 360, "height": 640}}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.fixture
def clocked_server(settings, tmp_path: Path, transactional_db: None) -> Iterator[DaphneServer]:  # type: ignore[no-untyped-def]
    """A daphne server that goes by this test's clock (agora/infra/clock.py) and keeps uploads in tmp."""
    clock_path = tmp_path / "clock"
    clock_path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(clock_path)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    env = server_env(extra={"AGORA_TEST_CLOCK_FILE": str(clock_path), "AGORA_MEDIA_ROOT": str(tmp_path / "media")})
    server = DaphneServer.start(log_dir=tmp_path, env=env)
    try:
        yield server
    finally:
        server.stop()


def shot(page: Any, name: str, *, full: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"decisions-door-{name}.png"), full_page=full)


def no_sideways_scroll(page: Any, where: str) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{where}: the page scrolls sideways ({width})"


def target_heights(page: Any, selector: str) -> list[float]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().height)")


@pytest.mark.parametrize(
    ("phone", "language", "elder"),
    [("390x844", "zh-hans", True), ("360x640", "zh-hans", False), ("390x844", "en", False)],
)
def test_a_grid_worker_records_an_owners_ballot_on_a_phone(
    clocked_server: DaphneServer, browser: Any, phone: str, language: str, elder: bool
) -> None:
    dw: DecisionWorld = decision_world()
    d = open_decision(dw)
    unit = unit_of(d, dw.households[1])  # 1号楼-1-102
    url = clocked_server.url
    page = new_page(browser, viewport=PHONES[phone], language=language, elder=elder, base_url=url)
    login(page, url, "grid1")
    tag = f"{phone}-{'zh' if language == 'zh-hans' else 'en'}{'-elder' if elder else ''}"
    page.goto(f"{url}/decisions/{d.pk}/door/")
    assert page.locator(".door-building").count() == 1 and "2号楼" not in page.content()  # only their grid's building
    shot(page, f"start-{tag}")
    page.fill("#room", "102")
    page.locator(".door-search button").click()
    units = page.locator(".door-unit")
    assert units.count() == 1
    no_sideways_scroll(page, "the unit list")
    units.first.locator("a").click()
    card = page.locator(".door-unit-card")
    assert "owner1102" in card.inner_text() and "1号楼-1-102" in card.inner_text() and "95.00" in card.inner_text()
    assert ("投票权数" if language == "zh-hans" else "Voting weight") in card.inner_text()
    no_sideways_scroll(page, "the ballot")
    if elder:
        assert min(target_heights(page, ".door-option")) >= 60
        assert min(target_heights(page, ".button.big")) >= 60
    shot(page, f"ballot-{tag}")
    matters = page.locator(".door-matter:not(.door-reason)")
    assert matters.count() == 2
    yes = "赞成" if language == "zh-hans" else "Yes"
    no = "反对" if language == "zh-hans" else "No"
    matters.nth(0).locator("label.door-option", has_text=yes).click()
    matters.nth(1).locator("label.door-option", has_text=no).click()
    reason = "老人不会用手机" if language == "zh-hans" else "Elderly owner, cannot use a phone"
    page.locator(".door-reason label.door-option", has_text=reason).click()
    page.locator(".door-ballot button[type=submit]").click()
    confirm = page.locator(".door-confirm")
    assert yes in confirm.inner_text() and no in confirm.inner_text()
    assert not DecisionVote.objects.filter(decision=d).exists()
    no_sideways_scroll(page, "the check")
    shot(page, f"confirm-{tag}", full=True)
    page.locator(".confirm-yes").click()
    receipt = page.locator("#receipt-code").inner_text().strip()
    vote = DecisionVote.objects.get(decision=d, unit_key=unit.unit_key)
    assert vote.channel == Channel.DOOR and vote.recorded_by == dw.grid_worker and vote.assisted_reason.startswith("老人不会用手机")
    assert len(receipt) >= 20
    no_sideways_scroll(page, "the receipt")
    shot(page, f"receipt-{tag}")
    # Back on the list the unit shows as voted, and the 扫楼 list no longer has it.
    page.goto(f"{url}/decisions/{d.pk}/door/list/")
    text = page.locator("main").inner_text()
    assert "1号楼-1-101" in text and "1号楼-1-102" not in text and "2号楼" not in text
    no_sideways_scroll(page, "the 扫楼 list")
    shot(page, f"list-{tag}", full=True)


def test_the_canvass_list_prints_one_table_per_building(clocked_server: DaphneServer, browser: Any) -> None:
    dw = decision_world()
    d = open_decision(dw)
    page = new_page(browser, viewport=DESKTOP, language="zh-hans", base_url=clocked_server.url)
    login(page, clocked_server.url, "mod")
    page.goto(f"{clocked_server.url}/decisions/{d.pk}/door/list/")
    assert page.locator("[data-print]").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.locator(".no-print").is_visible()
    assert page.locator("th.print-only").first.is_visible()  # the "visited" column to tick on paper
    shot(page, "list-print-zh", full=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


def test_a_moderator_records_and_revokes_proxies_and_the_holder_votes(clocked_server: DaphneServer, browser: Any, tmp_path: Path) -> None:
    dw = decision_world()
    d = open_decision(dw)
    url = clocked_server.url
    scan = tmp_path / "委托书.png"
    scan.write_bytes(PNG)
    mod = new_page(browser, viewport=PHONES["390x844"], language="zh-hans", base_url=url)
    login(mod, url, "mod")
    for household, holder in ((0, "owner2101"), (2, "tenant1")):
        mod.goto(f"{url}/decisions/{d.pk}/door/proxies/")
        mod.select_option("#id_unit", unit_of(d, dw.households[household]).unit_key)
        mod.fill("#id_holder", holder)
        mod.set_input_files("#id_document", str(scan))
        if household == 0:
            shot(mod, "proxy-form-390x844-zh", full=True)
        mod.locator(".door-proxy-form button[type=submit]").click()
        assert "委托已登记" in mod.locator(".flash").inner_text()
    assert Proxy.objects.filter(decision=d, revoked_at__isnull=True).count() == 2
    no_sideways_scroll(mod, "the proxies page")
    shot(mod, "proxies-390x844-zh", full=True)
    # Revoke the tenant's: the confirmation is required.
    mod.locator(".door-proxy", has_text="tenant1").locator("a", has_text="撤销").click()
    mod.fill("#id_reason", "业主本人回来了")
    mod.locator("button[type=submit]", has_text="撤销委托").click()
    assert Proxy.objects.get(holder=dw.tenant).revoked_at is None  # not without ticking the box
    assert mod.locator("#id_reason").input_value() == "业主本人回来了"
    mod.check("#id_confirm")
    shot(mod, "proxy-revoke-390x844-zh")
    mod.locator("button[type=submit]", has_text="撤销委托").click()
    assert "委托已撤销" in mod.locator(".flash").inner_text()
    assert Proxy.objects.get(holder=dw.tenant).revoked_at is not None

    # The holder (an owner of 2号楼-101) votes for 1号楼-101.
    holder = new_page(browser, viewport=PHONES["390x844"], language="zh-hans", elder=True, base_url=url)
    login(holder, url, "owner2101")
    holder.goto(f"{url}/decisions/{d.pk}/door/")
    banner = holder.locator(".door-held")
    assert "您受托为owner1101（1号楼-1-101）投票。" in banner.inner_text()
    shot(holder, "proxy-banner-390x844-zh-elder")
    banner.locator("a.button").click()
    for matter in range(2):
        holder.locator(".door-matter").nth(matter).locator("label.door-option", has_text="赞成").click()
    holder.locator(".door-ballot button[type=submit]").click()
    holder.locator(".confirm-yes").click()
    assert holder.locator("#receipt-code").inner_text().strip()
    shot(holder, "proxy-receipt-390x844-zh-elder")
    vote = DecisionVote.objects.get(decision=d, unit_key=unit_of(d, dw.households[0]).unit_key)
    assert vote.channel == Channel.PROXY and vote.voter == dw.owners[3]
    # Used now: the moderator no longer sees a way to revoke it.
    mod.goto(f"{url}/decisions/{d.pk}/door/proxies/")
    assert mod.locator(".door-proxy", has_text="owner2101").locator("a", has_text="撤销").count() == 0
    # The revoked holder's door page refuses them (no proxy, not a grid worker).
    tenant = new_page(browser, viewport=PHONES["360x640"], language="en", base_url=url)
    login(tenant, url, "tenant1")
    response = tenant.goto(f"{url}/decisions/{d.pk}/door/")
    assert response is not None and response.status == 403
