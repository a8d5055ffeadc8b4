"""The print benchmark: a personalised ballot for every voting unit, as one streamed PDF.

``python -m bench.pdf --units 10000`` (docs/performance.md, "Print-ready PDF"):

1. lays out a ballot-like page once (``bench/pdf_ballot.html``: title, period, the unit's table,
   ``--matters`` matters with 赞成/反对/弃权 boxes, a signature line, a code and its QR code) with
   ``agora.infra.pdf.PdfTemplate``;
2. baseline, same run: the same made-up rows written as CSV to a file (what the rows cost to make
   and write, whatever the machine's load);
3. ``agora.infra.pdf.write_pdf``: one A4 page per unit stamped with its owner, room, area, 投票权数,
   code and QR code, streamed to a file; the resident memory is sampled every 500 pages;
4. for comparison, ``--weasyprint-pages`` pages laid out one by one by WeasyPrint (what a page would
   cost without stamping), extrapolated to ``--units``;
5. checks the file: the page count, the last unit's name in the last page's text, the fonts
   embedded, and the QR code of one page decoded (pdftoppm and zxing-cpp, where installed).

Prints a Markdown table and writes JSON under bench/results/. The rows are made up here, in the
bench only (surnames, rooms, areas, random codes).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TEMPLATE = ROOT / "bench" / "pdf_ballot.html"
TARGET_SECONDS = 120.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红春梅海燕文斌晓东淑珍德福荣辉鑫宇浩然婷欣怡子轩梓涵雨泽"
MATTERS = [
    "关于选聘新物业服务企业的事项",
    "关于使用专项维修资金更换3号楼、5号楼电梯的事项",
    "关于修订《管理规约》第十二条（车位使用）的事项",
    "关于调整地面停车位收费标准的事项",
    "关于增设电动自行车集中充电棚的事项",
    "关于业主大会议事规则修订的事项",
    "关于公共收益使用和公示办法的事项",
    "关于外墙保温层维修方案的事项",
]
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def rows(units: int, seed: int = 16) -> Iterator[dict[str, str]]:
    """Made-up voting units: a name, a room in one of 40 buildings, an area, a random code."""
    rng = random.Random(seed)
    for i in range(units):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if i % 17 == 0:
            name += "、" + rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)  # joint owners
        area = f"{rng.uniform(38, 180):.2f}"
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(10))
        yield {
            "owner": name,
            "room": f"{i // 250 + 1}栋{(i // 50) % 5 + 1}单元{(i // 10) % 5 + 1:d}{i % 10 + 1:02d}室",
            "area": f"{area} m²",
            "weight": f"1 人 · {area} m²",
            "code": f"{code[:5]}-{code[5:]}",
            "url": f"https://agora.example.cn/ballot/{code}",
        }


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pdf", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000, help="voting units, one ballot page each (default 1000)")
    parser.add_argument("--matters", type=int, default=5, help="matters on the ballot (default 5, at most 8)")
    parser.add_argument(
        "--weasyprint-pages", type=int, default=30, help="pages laid out one by one by WeasyPrint, for comparison (0: skip)"
    )
    parser.add_argument("--keep", default=None, help="keep the PDF at this path")
    parser.add_argument("--out", default=None, help="JSON file (default bench/results/pdf-<time>.json)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = parse(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    import django

    django.setup()
    from django.template import Context, Template

    from agora.infra.pdf import PdfTemplate, Qr, html_to_pdf, write_pdf

    load_before = os.getloadavg()
    context: dict[str, Any] = {
        "title": "港云里小区业主共同决定事项表决票",
        "community": "港云里小区业主大会",
        "period": "2026年12月18日 09:00 至 2026年12月27日 23:59",
        "matters": MATTERS[: options.matters],
    }
    html = Template(TEMPLATE.read_text()).render(Context(context))
    rss_start = rss_mib()

    started = time.perf_counter()
    template = PdfTemplate.from_html(html)
    layout_s = time.perf_counter() - started

    work = Path(tempfile.mkdtemp(prefix="agora-bench-pdf-"))
    csv_path, pdf_path = work / "ballots.csv", Path(options.keep) if options.keep else work / "ballots.pdf"

    started = time.perf_counter()
    with csv_path.open("w", newline="") as text_out:
        writer = csv.DictWriter(text_out, fieldnames=["owner", "room", "area", "weight", "code", "url"])
        writer.writeheader()
        writer.writerows(rows(options.units))
    csv_s = time.perf_counter() - started

    samples: list[float] = []

    def fills() -> Iterator[dict[str, str | Qr]]:
        for i, row in enumerate(rows(options.units)):
            if i % 500 == 0:
                samples.append(rss_mib())
            yield {
                "owner": row["owner"],
                "room": row["room"],
                "area": row["area"],
                "weight": row["weight"],
                "code": row["code"],
                "qr": Qr(row["url"]),
            }

    started = time.perf_counter()
    with pdf_path.open("wb") as out:
        size = write_pdf(template, fills(), out, title=context["title"])
    pdf_s = time.perf_counter() - started
    samples.append(rss_mib())
    load_after = os.getloadavg()

    weasy: dict[str, Any] = {}
    if options.weasyprint_pages:
        one = Template(TEMPLATE.read_text().replace('data-slot="', 'data-x="')).render(Context(context))
        body_start, body_end = one.index("<body>") + len("<body>"), one.index("</body>")
        page = one[body_start:body_end]
        many = (
            one[:body_start]
            + "".join(f'<div style="break-after: page">{page}</div>' for _ in range(options.weasyprint_pages))
            + one[body_end:]
        )
        started = time.perf_counter()
        html_to_pdf(many)
        seconds = time.perf_counter() - started
        weasy = {
            "pages": options.weasyprint_pages,
            "seconds": round(seconds, 2),
            "pages_per_s": round(options.weasyprint_pages / seconds, 1),
            "extrapolated_s": round(options.units * seconds / options.weasyprint_pages, 0),
        }

    result = {
        "units": options.units,
        "matters": options.matters,
        "layout_s": round(layout_s, 2),
        "pdf_s": round(pdf_s, 2),
        "pages_per_s": round(options.units / pdf_s, 0),
        "bytes": size,
        "bytes_per_page": round(size / options.units),
        "csv_s": round(csv_s, 3),
        "ratio_to_csv": round(pdf_s / csv_s, 1) if csv_s else None,
        "rss_before_mib": round(rss_start, 0),
        "rss_samples_mib": [round(s) for s in samples],
        "rss_growth_while_streaming_mib": round(max(samples) - samples[0], 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in load_after],
        "cores": os.cpu_count(),
        "weasyprint_one_by_one": weasy,
        "checks": check(pdf_path, options.units),
        "target_s": TARGET_SECONDS,
    }
    print(render(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = Path(options.out) if options.out else RESULTS / f"pdf-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out_path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if pdf_s < TARGET_SECONDS and result["checks"]["pages"] == options.units else 1


def check(path: Path, units: int) -> dict[str, Any]:
    """What a print shop would check: the pages, the last unit's text, the fonts, one QR code."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    last = list(rows(units))[-1]
    text = reader.pages[-1].extract_text()
    checks: dict[str, Any] = {"pages": len(reader.pages), "last_owner_in_text": last["owner"] in text and last["code"] in text}
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", "-l", "1", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
        checks["fonts_embedded"] = bool(fonts) and all(line.split()[-5] == "yes" for line in fonts)
    if shutil.which("pdftoppm"):
        try:
            import zxingcpp
            from PIL import Image
        except ImportError:
            return checks
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(units), "-l", str(units), str(path), f"{folder}/p"], check=True)
            image = Image.open(next(Path(folder).glob("p*.png")))
            checks["qr_decoded"] = [code.text for code in zxingcpp.read_barcodes(image)] == [last["url"]]
    return checks


def render(r: dict[str, Any]) -> str:
    w = r["weasyprint_one_by_one"]
    lines = [
        f"| ballots | matters | layout once | stamped PDF | pages/s | size | CSV baseline | PDF ÷ CSV | RSS while streaming | peak RSS | load before → after ({r['cores']} cores) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {r['units']:,} | {r['matters']} | {r['layout_s']} s | **{r['pdf_s']} s** | {r['pages_per_s']:.0f} | {r['bytes'] / 2**20:.1f} MiB ({r['bytes_per_page']} B/page) "
        f"| {r['csv_s']} s | {r['ratio_to_csv']}× | {min(r['rss_samples_mib'])}–{max(r['rss_samples_mib'])} MiB (+{r['rss_growth_while_streaming_mib']}) "
        f"| {r['peak_rss_mib']} MiB | {r['load_before'][0]} → {r['load_after'][0]} |",
    ]
    if w:
        lines.append("")
        lines.append(
            f"WeasyPrint laying out every page instead: {w['pages']} pages in {w['seconds']} s ({w['pages_per_s']} pages/s), ~{w['extrapolated_s']:.0f} s for {r['units']:,}."
        )
    lines.append(f"Checks: {r['checks']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
