"""A hybrid meeting in real Chromium: a moderator, two residents and the projector screen."""

from __future__ import annotations

import pytest

from sessions.meeting import services
from sessions.models import AgendaItem, Message
from tests.browser.conftest import PHONE, login, new_page, screenshot
from tests.factories import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PROJECTOR = {"width": 1920, "height": 1080}
DESKTOP = {"width": 1280, "height": 900}


def test_hand_floor_projector_and_hiding_a_message(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    session = tx_world.session
    session.place = "社区党群服务中心二楼"
    session.save()
    for i, (title, minutes) in enumerate([("车辆登记办法", 15), ("新增车位分配方案", 30)], start=1):
        AgendaItem.objects.create(session=session, position=i, title=title, planned_minutes=minutes)
    room = services.meeting_room_ensure(session=session)
    url = f"{base}/sessions/{session.pk}/"

    moderator = new_page(browser, viewport=DESKTOP)
    login(moderator, base, "mod")
    moderator.goto(url)
    moderator.wait_for_selector("#live-status.online")
    screen = new_page(browser, viewport=PROJECTOR)
    screen.goto(f"{base}/projector/{room.projector_token}/")  # no login: the link is the key
    alice = new_page(browser, viewport=PHONE)
    bob = new_page(browser, viewport=PHONE)
    for page, name in ((alice, "res1"), (bob, "res2")):
        login(page, base, name)
        page.goto(url)
        page.wait_for_selector("#live-status.online")

    # The moderator starts the first agenda item; everyone (and the wall) sees it.
    moderator.click("#agenda-next")
    for page in (alice, bob):
        page.wait_for_selector(".agenda-title:has-text('车辆登记办法')")
    screen.wait_for_selector("#screen-now-item:has-text('车辆登记办法')")  # the wall: in its header, whatever it shows

    # Alice raises her hand; the moderator sees the queue and gives her the floor with a limit.
    moderator.select_option("#floor-limit", "120")
    moderator.click("form:has(#floor-limit) button[type=submit]")
    alice.click("#hand-raise")
    alice.wait_for_selector("#hand-lower-form:not([hidden])")
    moderator.wait_for_selector("#floor-queue .queue-row:has-text('res1')")
    bob.wait_for_selector("#floor-queue .queue-row:has-text('res1')")
    moderator.click("#floor-queue .queue-row:has-text('res1') .give-floor")
    for page in (alice, bob, moderator, screen):
        page.wait_for_selector(".speaker-name:has-text('res1')")
        page.wait_for_selector(".floor-timer .timer-remaining")
    alice.wait_for_selector("#hand-raise-form:not([hidden])")  # her turn came: the hand is down
    assert screen.locator(".speaker-banner .speaker-now").get_attribute("aria-live") == "polite"
    for _tick in range(40):  # the timer runs by itself (wait_for_function would need eval, which CSP forbids)
        if screen.inner_text(".timer-elapsed").strip() not in ("0:00", ""):
            break
        screen.wait_for_timeout(100)
    assert screen.inner_text(".timer-elapsed").strip() not in ("0:00", "")
    assert "剩余" in screen.inner_text(".timer-remaining")

    # Bob posts something off-topic; the moderator hides it with a reason.
    bob.fill("#id_text", "楼下小超市打折啦,快来买")
    bob.click("#send")
    moderator.wait_for_selector("#messages .message:has-text('小超市打折')")
    alice.wait_for_selector("#messages .message:has-text('小超市打折')")
    item = moderator.locator("#messages .message:has-text('小超市打折')")
    item.locator("summary.msg-menu-open").click()  # one menu holds a message's actions
    item.locator(".hide-form input[name=reason]").fill("与议题无关的广告")
    item.locator("button.msg-hide").click()
    alice.wait_for_selector("#messages .message:has-text('小超市打折')", state="detached")
    bob.wait_for_selector("#messages .message.own-hidden")  # the author is told it was hidden, and why
    moderator.wait_for_selector("#messages .message.is-hidden:has-text('与议题无关的广告')")
    assert Message.objects.get(text_html__contains="小超市打折").hidden
    alice.reload()
    alice.wait_for_selector("#live-status.online")
    assert alice.locator("#messages .message:has-text('小超市打折')").count() == 0

    # The projector's join QR is what a phone would scan: decode what the browser shows.
    qr = screen.evaluate(
        """async () => { const img = document.getElementById('projector-join-qr'); await img.decode();
        const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        return {w: c.width, h: c.height, px: Array.from(ctx.getImageData(0, 0, c.width, c.height).data)}; }"""
    )
    import zxingcpp

    assert qr["w"] > 100 and qr["w"] == qr["h"]
    pixels = bytes(qr["px"])  # keep a reference: ImageView only borrows the buffer
    found = zxingcpp.read_barcodes(zxingcpp.ImageView(pixels, qr["w"], qr["h"], zxingcpp.ImageFormat.RGBA))
    assert [f.text for f in found] == [f"{base}/j/{room.join_code}/"]

    screen.wait_for_timeout(1200)  # let the timer tick before the picture
    screenshot_viewport(screen, "meeting-projector-1920")
    alice.evaluate("window.scrollTo(0, document.getElementById('meeting').offsetTop - 8)")
    screenshot_viewport(alice, "meeting-resident-390")
    screenshot(moderator, "meeting-moderator-desktop")


def screenshot_viewport(page, name: str) -> None:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_door_check_in_and_self_check_in_count_each_person_once(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    from agora.roster.models import Resident
    from sessions.meeting.selectors import attendance_summary
    from tests.factories import resident_make

    base = daphne_server.url
    session = tx_world.session
    household = Resident.objects.get(user=tx_world.resident).household
    resident_make(tx_world.community, "res1b", tags=[tx_world.car_owner], household=household)
    room = services.meeting_room_ensure(session=session)

    # Bob is online from his phone, then scans the check-in code at the door.
    bob = new_page(browser, viewport=PHONE)
    login(bob, base, "res2")
    bob.goto(f"{base}/sessions/{session.pk}/")
    bob.wait_for_selector("#live-status.online")
    bob.goto(f"{base}/j/{room.join_code}/checkin/{room.checkin_token}/")
    bob.click("#checkin-self")
    bob.wait_for_selector(".flash-success")
    assert "已签到" in bob.inner_text(".flash")

    # The moderator finds Alice's household by room number and checks both of them in.
    moderator = new_page(browser, viewport=PHONE)
    login(moderator, base, "mod")
    moderator.goto(f"{base}/sessions/{session.pk}/meeting/checkin/")
    moderator.fill("#checkin-q", household.room)
    moderator.press("#checkin-q", "Enter")
    moderator.wait_for_selector(".household-card")
    moderator.click(".household-card form:not(.inline) button")
    moderator.wait_for_selector(".flash-success")
    assert moderator.locator(".checked-in li").count() == 3
    assert "共 3 人" in moderator.inner_text(".attendance-total") and "2 户" in moderator.inner_text(".attendance-total")
    screenshot(moderator, "meeting-checkin-desk-phone")

    s = attendance_summary(session)
    assert (s["total"], s["both"], s["in_room_only"], s["households"]) == (3, 1, 2, 2)

    # Typing the code on the join page takes a resident straight in.
    alice = new_page(browser, viewport=PHONE)
    alice.goto(f"{base}/join/")
    alice.wait_for_url(lambda url: "/accounts/login/" in url)
    login(alice, base, "res1")
    alice.goto(f"{base}/join/")
    alice.fill("#join-code-input", room.join_code.lower())
    alice.click("form button[type=submit].primary")
    alice.wait_for_url(f"{base}/sessions/{session.pk}/")
    alice.wait_for_selector("#live-status.online")
