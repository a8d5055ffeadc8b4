"""A community set up by its moderator, in Chromium against a real server: a GBK roster with
mistakes, the preview's line-numbered errors, the corrected file imported; invitation sheets
printed; a resident logs in with the sheet's code on a phone in elder mode; a grid worker added."""

from __future__ import annotations

import io
import re
import subprocess
from typing import Any

from pypdf import PdfReader

from agora.roster.models import Membership, Resident
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, login, new_page, screenshot
from tests.factories import World

BAD = "楼栋,单元,房号,面积,姓名,身份,电话,\n\n8号楼,1,101,80.5,陈秀兰,业主,13800000001,\n8号楼,1,101,90,陈建华,业主,13800000002,\n\n8号楼,1,,70,周,业主,,\n"
GOOD = "楼栋,单元,房号,面积,姓名,身份,电话,\n\n8号楼,1,101,80.5,陈秀兰,业主,13800000001,\n8号楼,1,101,,陈建华,业主,13800000002,\n\n8号楼,1,102,70,周桂英,业主,,\n"


def _upload(page: Any, name: str, text: str) -> None:
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode("gbk")}])
    page.click("form.upload-form button[type=submit]")


def test_a_moderator_onboards_residents_who_log_in_with_their_sheet(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    mod = new_page(browser, viewport=DESKTOP, language="zh-hans", base_url=base)
    login(mod, base, "mod")
    mod.goto(f"{base}/sessions/")
    mod.click("text=名册和账号")
    mod.click("text=上传名册（CSV 或 Excel）")
    _upload(mod, "名册.csv", BAD)
    errors = mod.locator("ul.row-errors li").all_inner_texts()
    assert errors == [
        "第 4 行：面积90.00 m²与第 3 行同一房间的80.50 m²不一致",
        "第 6 行：房号为空",
    ]
    assert "2个问题：什么也没有导入" in mod.inner_text("main")
    screenshot(mod, "onboard-preview-errors-zh")
    _upload(mod, "名册.csv", GOOD)
    assert "新增户：2" in mod.inner_text("ul.changes")
    screenshot(mod, "onboard-preview-ok-zh")
    mod.click("text=确认导入")
    mod.wait_for_selector("text=名册已导入")
    assert Resident.objects.get(user__first_name="陈秀兰").phone == "13800000001"

    # The same file again: nothing changed, no import button.
    mod.goto(f"{base}/roster/gyl/upload/")
    _upload(mod, "名册.csv", GOOD)
    assert "没有变化：名册已是最新。" in mod.inner_text("main")

    # Invitation sheets for the two people of 8号楼 1-101.
    mod.goto(f"{base}/roster/gyl/residents/")
    mod.check("label:has-text('陈秀兰') >> xpath=ancestor::tr//input[@type='checkbox']")
    mod.check("label:has-text('陈建华') >> xpath=ancestor::tr//input[@type='checkbox']")
    screenshot(mod, "onboard-residents-zh")
    mod.click("text=为勾选的人打印邀请单")
    assert "以前打印的邀请单随即作废" in mod.inner_text("main")
    # The confirm form, sent as the browser would (its cookies, its CSRF token): headless Chromium
    # shows a PDF in its viewer, where a test cannot read it.
    form = mod.evaluate("new URLSearchParams(new FormData(document.querySelector('form.confirm-page'))).toString()")
    answer = mod.request.post(
        f"{base}/roster/gyl/sheets/", data=form, headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": mod.url}
    )
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = answer.body()
    pdf_path = SCREENSHOTS / "onboard-invitations.pdf"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    texts = [p.extract_text() for p in reader.pages]
    number = next(i for i, text in enumerate(texts, start=1) if "陈秀兰" in text)
    assert "8号楼-1-101" in texts[number - 1] and "陈建华" in texts[2 - number]
    code = re.findall(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", texts[number - 1])[0]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number), str(pdf_path), str(SCREENSHOTS / "onboard-invitation-page")],
        check=True,
    )

    # A grid worker for the new grid-less community: an observer, then shown on the staff page.
    mod.goto(f"{base}/roster/gyl/staff/")
    mod.select_option("#id_role", "observer")
    mod.fill("#id_full_name", "物业王经理")
    mod.fill("#id_username", "wang-wy")
    mod.fill("#id_title", "物业公司")
    mod.click("form.staff-add button[type=submit]")
    mod.wait_for_selector("text=已添加物业王经理")
    assert Membership.objects.filter(user__username="wang-wy", role="observer").exists()
    screenshot(mod, "onboard-staff-zh")

    # The resident, on a phone in elder mode, opens the QR code's address.
    phone = new_page(browser, viewport=PHONE, language="zh-hans", elder=True, base_url=base)
    phone.goto(f"{base}/i/{code}/")
    assert phone.input_value("#id_code") == code
    screenshot(phone, "onboard-code-login-phone-elder-zh")
    phone.click("form.code-form button[type=submit]")
    phone.wait_for_selector("text=欢迎，陈秀兰")
    button = phone.locator("button[value=sheet]").bounding_box()
    assert button is not None and button["height"] >= 60
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "onboard-welcome-phone-elder-zh")
    phone.click("button[value=sheet]")
    phone.wait_for_selector("text=好的，不设密码")
    assert "陈秀兰" in phone.inner_text("header .who")

    # The code worked once: the same address again is refused with a sentence.
    other = new_page(browser, viewport=PHONE, language="en", base_url=base)
    other.goto(f"{base}/i/{code}/")
    other.click("form.code-form button[type=submit]")
    assert "This code is not valid." in other.inner_text("main")
    screenshot(other, "onboard-code-refused-phone-en")

    # The same pages in English on a phone.
    en = new_page(browser, viewport=PHONE, language="en", base_url=base)
    login(en, base, "mod")
    en.goto(f"{base}/roster/gyl/upload/")
    _upload(en, "roster.csv", BAD)
    assert "line 4: the area 90.00 m² differs from 80.50 m² on line 3 for the same room" in en.inner_text("ul.row-errors")
    assert en.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(en, "onboard-preview-errors-phone-en")
    en.goto(f"{base}/roster/gyl/residents/")
    screenshot(en, "onboard-residents-phone-en")
