"""Paper ballots in a real browser (voting/decisions/paper/): a moderator prepares the codes; a
clerk on a desktop enters a returned ballot as a USB scanner does (the QR's entry URL typed into
the focused field, then Enter), checks the unit and records the choices; a second clerk on a
phone types the printed code and enters it again, and it is counted; a mistyped code is refused
with the code kept; a ballot is voided after its reason and a ticked confirmation.
Screenshots: test-artifacts/screenshots/decisions-paper-*.png."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, login, new_page
from tests.servers import ROOT, DaphneServer, server_env
from tests.voting.decisions.helpers import decision_world, open_decision, unit_of
from voting.decisions.paper.codes import code_printed
from voting.models import BallotCode, Channel, DecisionVote, PaperEntry, VoteState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(600)]


def _port() -> int:
    """A free port in this feature's range (26000-26999), so parallel work never collides."""
    for port in range(26100, 27000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 26100-26999")


@pytest.fixture
def clocked_server(settings, tmp_path: Path, transactional_db: None) -> Iterator[DaphneServer]:  # type: ignore[no-untyped-def]
    clock_path = tmp_path / "clock"
    clock_path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(clock_path)
    env = server_env(extra={"AGORA_TEST_CLOCK_FILE": str(clock_path)})
    port = _port()
    log_path = tmp_path / f"daphne-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agora.server", "-b", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = DaphneServer(process, port, log_path).wait_ready(30)
    try:
        yield server
    finally:
        server.stop()


def shot(page: Any, name: str, *, full: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"decisions-paper-{name}.png"), full_page=full)


def test_two_clerks_enter_a_ballot_on_a_desktop_and_a_phone_and_one_is_voided(clocked_server: DaphneServer, browser: Any) -> None:
    dw = decision_world()
    d = open_decision(dw, double_entry=True)
    url = clocked_server.url

    first = new_page(browser, viewport=DESKTOP, language="zh-hans", base_url=url)
    login(first, url, "mod")
    first.goto(f"{url}/decisions/{d.pk}/paper/")
    first.get_by_role("button", name="生成表决码").click()
    assert "已生成7个表决码" in first.locator(".flash").inner_text()
    shot(first, "home-zh")
    assert BallotCode.objects.filter(decision=d).count() == 7
    code = BallotCode.objects.get(decision=d, unit_key=unit_of(d, dw.households[0]).unit_key).code

    # a USB scanner: the QR code's entry URL typed into the focused field, then Enter
    first.goto(f"{url}/decisions/{d.pk}/paper/enter/")
    assert first.evaluate("document.activeElement.id") == "paper-code"
    first.keyboard.type(f"{url}/decisions/{d.pk}/paper/enter/?code={code}")
    first.keyboard.press("Enter")
    card = first.locator(".paper-unit")
    assert "1号楼-1-101" in card.inner_text() and "80.50" in card.inner_text() and "owner1101" in card.inner_text()
    for matter in first.locator(".paper-matter").all():
        matter.locator(".paper-option").first.click()  # 赞成
    shot(first, "enter-desktop-zh")
    first.get_by_role("button", name="确认并录入").click()
    assert "须由另一位录入员再录入一次" in first.locator(".flash").inner_text()
    vote = DecisionVote.objects.get(decision=d)
    assert vote.state == VoteState.AWAITING_CHECK and vote.channel == Channel.PAPER

    # the same clerk again is told a second clerk must do it
    first.fill("#paper-code", code)
    first.keyboard.press("Enter")
    assert "须由另一位录入员再录入一次进行核对" in first.locator(".paper-error").inner_text()

    second = new_page(browser, viewport=PHONE, language="en", base_url=url)
    login(second, url, "clerk")
    second.goto(f"{url}/decisions/{d.pk}/paper/enter/")
    typo = code_printed(code[:-1] + ("2" if code[-1] != "2" else "3")).lower()
    second.fill("#paper-code", typo)
    second.keyboard.press("Enter")
    assert "typed wrong" in second.locator(".paper-error").inner_text()
    assert second.input_value("#paper-code") == typo  # what was typed is kept
    shot(second, "typo-phone-en")
    second.fill("#paper-code", code_printed(code).lower())
    second.keyboard.press("Enter")
    assert "Second entry: mod entered it first" in second.locator(".paper-badge").inner_text()
    width = second.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    for matter in second.locator(".paper-matter").all():
        matter.locator(".paper-option").first.click()
    shot(second, "second-entry-phone-en")
    second.get_by_role("button", name="Confirm and record").click()
    assert "agrees with the first: the ballot is counted" in second.locator(".flash").inner_text()
    vote.refresh_from_db()
    assert vote.state == VoteState.COUNTED
    assert list(PaperEntry.objects.filter(vote=vote).values_list("round", "entered_by__username")) == [(1, "mod"), (2, "clerk")]

    # void, on a confirmation page of its own
    second.goto(f"{url}/decisions/{d.pk}/paper/entries/")
    second.get_by_role("link", name="Void…").click()
    second.fill("#id_reason", "录入时选错了户")
    shot(second, "void-phone-en")
    second.get_by_role("button", name="Void the ballot").click()
    assert second.url.endswith("/void/")  # the confirmation is not ticked: nothing happens
    vote.refresh_from_db()
    assert vote.state == VoteState.COUNTED
    second.check("#id_confirmed")
    second.get_by_role("button", name="Void the ballot").click()
    assert "The ballot was voided" in second.locator(".flash").inner_text()
    vote.refresh_from_db()
    assert vote.state == VoteState.VOIDED and vote.void_reason == "录入时选错了户"

    first.goto(f"{url}/decisions/{d.pk}/paper/register/")
    shot(first, "register-zh")
    elder = new_page(browser, viewport=PHONE, language="zh-hans", elder=True, base_url=url)
    login(elder, url, "clerk")
    elder.goto(f"{url}/decisions/{d.pk}/paper/enter/?code={code}")
    assert elder.locator(".paper-unit").count() == 1
    heights = elder.eval_on_selector_all(".paper-option", "els => els.map(e => e.getBoundingClientRect().height)")
    assert min(heights) >= 60, heights
    shot(elder, "enter-phone-zh-elder")
