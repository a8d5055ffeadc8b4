"""Print-ready PDFs (agora/infra/pdf.py): what a print shop and a reader of the paper notice.

A4 pages, the Chinese text there and extractable, every font embedded, QR codes that a phone
decodes to the right address, a stamped page per voting unit with its own values, a stream that
starts before the roster is read to the end, and no resource fetched from outside.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from django.template import Context, Template
from PIL import Image
from pypdf import PdfReader

from agora.infra.pdf import PdfTemplate, Qr, html_to_pdf, pdf_response, qr_png, render_pdf, stream_pdf, streaming_pdf_response

pytestmark = pytest.mark.same_on_both_passes

A4 = (595.28, 841.89)  # points

NOTICE = """{% extends "pdf/base.html" %}{% load pdf_tags %}
{% block content %}
<h1>关于选聘物业服务企业的表决通知</h1>
<p>表决期间：2026年12月18日 09:00 至 2026年12月27日 23:59。</p>
<p>本次表决的业主总人数280人，专有部分总面积24,838.57平方米。</p>
<div class="qr">{% qr_svg url size="28mm" %}</div>
<p>业主委员会（盖章）</p>
{% endblock %}"""

BALLOT = """{% extends "pdf/base.html" %}
{% block page_css %}.name { width: 40mm; } .qr-slot { width: 30mm; height: 30mm; }{% endblock %}
{% block content %}
<h1>业主共同决定事项表决票</h1>
<table><tr><th>业主姓名</th><td><span class="name" data-slot="owner"></span></td><th>房号</th><td><span data-slot="room" style="width: 40mm"></span></td></tr></table>
<p>表决码：<span data-slot="code" style="width: 50mm"></span></p>
<span class="qr-slot" data-slot="qr"></span>
<p>赞成 □　反对 □　弃权 □</p>
<p style="break-before: page">背面　表决码：<span data-slot="code" style="width: 50mm" data-slot-align="right"></span></p>
{% endblock %}"""

UNITS = [
    {"owner": "张伟", "room": "3栋2单元501室", "code": "K7Q2-8XN4", "qr": Qr("https://agora.example.cn/b/K7Q28XN4")},
    {
        "owner": "欧阳晓梅、司马建国、诸葛玉兰",
        "room": "3栋2单元502室",
        "code": "M3PD-2WRT",
        "qr": Qr("https://agora.example.cn/b/M3PD2WRT"),
    },
    {"owner": "Li Lei", "room": "12栋1单元1203室", "code": "Z9HC-77QA", "qr": Qr("https://agora.example.cn/b/Z9HC77QA")},
]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing: .ci/run installs poppler-utils")
    pytest.skip(f"{name} is not installed (apt-get install poppler-utils)")


def png_of_page(pdf: bytes, page: int, tmp_path: Path, dpi: int = 150) -> Image.Image:
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [tool("pdftoppm"), "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), str(source), str(tmp_path / "p")], check=True
    )
    return Image.open(next(tmp_path.glob("p*.png")))


def fonts_of(reader: PdfReader) -> list[dict]:
    """Every font a page uses, in its own resources and in the forms it draws."""
    found = []

    def walk(resources: dict) -> None:
        for font in (resources.get("/Font") or {}).values():
            found.append(font.get_object())
        for xobject in (resources.get("/XObject") or {}).values():
            inner = xobject.get_object().get("/Resources")
            if inner:
                walk(inner.get_object())

    for page in reader.pages:
        walk(page["/Resources"])
    return found


def embedded(font: dict) -> bool:
    descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
    descriptor = descendant["/FontDescriptor"].get_object()
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.fixture(scope="module")
def notice() -> bytes:
    html = Template(NOTICE).render(Context({"url": "https://agora.example.cn/d/42/notice"}))
    return html_to_pdf(html)


@pytest.fixture(scope="module")
def ballot_template() -> PdfTemplate:
    return PdfTemplate.from_html(Template(BALLOT).render(Context()))


@pytest.fixture(scope="module")
def ballots(ballot_template: PdfTemplate) -> bytes:
    return b"".join(stream_pdf(ballot_template, iter(UNITS), title="表决票"))


def test_a_notice_is_an_a4_page_with_its_chinese_text_extractable_and_its_fonts_embedded(notice: bytes) -> None:
    reader = PdfReader(io.BytesIO(notice))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4
    text = reader.pages[0].extract_text()
    assert "关于选聘物业服务企业的表决通知" in text
    assert "24,838.57平方米" in text
    fonts = fonts_of(reader)
    assert fonts and all(embedded(font) for font in fonts)


def test_a_notices_qr_code_opens_the_notice(notice: bytes, tmp_path: Path) -> None:
    image = png_of_page(notice, 1, tmp_path)
    assert [code.text for code in zxingcpp.read_barcodes(image)] == ["https://agora.example.cn/d/42/notice"]


def test_the_chinese_is_set_in_the_embedded_cjk_face(notice: bytes, tmp_path: Path) -> None:
    """Without a CJK face Pango falls back to one without the glyphs, which prints boxes (tofu)."""
    source = tmp_path / "n.pdf"
    source.write_bytes(notice)
    listing = subprocess.run([tool("pdffonts"), str(source)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-SC" in listing
    rows = listing.splitlines()[2:]
    assert rows and all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows)  # embedded, subset, ToUnicode


def test_every_unit_gets_its_own_pages_with_its_own_values(ballots: bytes) -> None:
    """The ballot has a back page (the code again): two pages a unit, in roster order."""
    reader = PdfReader(io.BytesIO(ballots))
    assert len(reader.pages) == 2 * len(UNITS)
    assert reader.metadata.title == "表决票"
    for number, unit in enumerate(UNITS):
        front, back = reader.pages[2 * number], reader.pages[2 * number + 1]
        for page in (front, back):
            box = page.mediabox
            assert (round(float(box.width), 2), round(float(box.height), 2)) == A4
        text = front.extract_text()
        assert "业主共同决定事项表决票" in text  # the laid-out page
        assert unit["owner"] in text.replace("\n", "") and unit["room"] in text and unit["code"] in text
        assert "背面" in back.extract_text() and unit["code"] in back.extract_text()
    assert UNITS[1]["owner"] not in reader.pages[0].extract_text()


def test_stamped_fonts_are_embedded_subsets(ballots: bytes, tmp_path: Path) -> None:
    reader = PdfReader(io.BytesIO(ballots))
    fonts = fonts_of(reader)
    assert fonts and all(embedded(font) for font in fonts)
    source = tmp_path / "b.pdf"
    source.write_bytes(ballots)
    rows = subprocess.run([tool("pdffonts"), str(source)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert any("NotoSansCJKsc-Regular" in row for row in rows)
    assert all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows)


def test_each_ballots_qr_code_decodes_to_its_own_address(ballots: bytes, tmp_path: Path) -> None:
    for number, unit in enumerate(UNITS, start=1):
        folder = tmp_path / str(number)
        folder.mkdir()
        image = png_of_page(ballots, 2 * number - 1, folder)
        assert [code.text for code in zxingcpp.read_barcodes(image)] == [unit["qr"].text]


def test_a_long_name_is_shrunk_to_stay_inside_its_box(ballots: bytes, ballot_template: PdfTemplate, tmp_path: Path) -> None:
    source = tmp_path / "b.pdf"
    source.write_bytes(ballots)
    html = subprocess.run(
        [tool("pdftotext"), "-f", "3", "-l", "3", "-bbox", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = [line for line in html.splitlines() if "欧阳" in line]
    assert words, html
    x_max = float(words[0].split('xMax="')[1].split('"')[0])
    (slot,) = [s for s in ballot_template.slots if s.name == "owner"]
    assert len([s for s in ballot_template.slots if s.name == "code"]) == 2  # front and back
    assert x_max <= slot.x + slot.width + 0.5  # pdftotext's box is in points, like the slot


def test_render_pdf_takes_a_template_name() -> None:
    reader = PdfReader(io.BytesIO(render_pdf("pdf/base.html", {})))
    assert len(reader.pages) == 1
    assert (round(float(reader.pages[0].mediabox.width), 2), round(float(reader.pages[0].mediabox.height), 2)) == A4


def test_stamped_text_drops_control_characters_and_keeps_rare_ones(ballot_template: PdfTemplate) -> None:
    unit = {**UNITS[0], "owner": "𠮷田\u0007\u200b 美玲"}
    text = PdfReader(io.BytesIO(b"".join(stream_pdf(ballot_template, [unit])))).pages[0].extract_text()
    assert "𠮷田 美玲" in text
    assert "\x00" not in text and "\u0007" not in text


def test_every_slot_needs_a_value_and_no_other(ballot_template: PdfTemplate) -> None:
    assert ballot_template.slot_names == {"owner", "room", "code", "qr"}
    with pytest.raises(ValueError, match="owner"):
        b"".join(stream_pdf(ballot_template, [{"room": "1栋", "code": "", "qr": Qr("x")}]))
    with pytest.raises(ValueError, match="phone"):
        b"".join(stream_pdf(ballot_template, [{**UNITS[0], "phone": "13800000000"}]))


def test_the_pdf_streams_before_the_roster_is_read_to_the_end(ballot_template: PdfTemplate) -> None:
    read = 0

    def roster() -> Iterator[dict[str, str | Qr]]:
        nonlocal read
        for i in range(2000):
            read += 1
            yield {**UNITS[i % 3], "code": f"C{i:05d}"}

    chunks = stream_pdf(ballot_template, roster())
    first = next(chunks)
    assert first.startswith(b"%PDF-1.7")
    assert read < 2000
    chunks.close()


async def test_under_asgi_the_response_streams_too(ballot_template: PdfTemplate) -> None:
    read = 0

    def roster() -> Iterator[dict[str, str | Qr]]:
        nonlocal read
        for i in range(1500):
            read += 1
            yield {**UNITS[i % 3], "code": f"C{i:05d}"}

    response = streaming_pdf_response(stream_pdf(ballot_template, roster()), "表决票（3栋）.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    parts = response.__aiter__()
    first = await parts.__anext__()
    assert first.startswith(b"%PDF-1.7") and read < 1500
    await parts.aclose()
    await asyncio.sleep(0.05)


def test_a_pdf_answer_names_the_file_in_chinese() -> None:
    response = pdf_response(b"%PDF-1.7", "表决通知.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")


def test_a_template_cannot_make_the_server_fetch_anything_outside(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.listen()
    listener.settimeout(0.2)
    connections = []

    def accept() -> None:
        try:
            connections.append(listener.accept())
        except OSError:
            pass

    waiter = threading.Thread(target=accept)
    waiter.start()
    secret = tmp_path / "secret.png"  # a file outside the static folders
    secret.write_bytes(qr_png("https://agora.example.cn/secret"))
    png = base64.b64encode(qr_png("https://agora.example.cn/")).decode()
    html = (
        f"<html><head><link rel=stylesheet href='http://127.0.0.1:{port}/x.css'></head><body><p>公告</p>"
        f"<img src='http://127.0.0.1:{port}/x.png'><img src='{secret.as_uri()}'>"
        "<img src='data:image/png;base64," + png + "'></body></html>"
    )
    pdf = html_to_pdf(html)
    waiter.join()
    listener.close()
    assert connections == []
    reader = PdfReader(io.BytesIO(pdf))
    images = reader.pages[0].images
    assert len(images) == 1  # the data: URL; neither the address on the network nor the file
    assert "公告" in reader.pages[0].extract_text()
