"""Paper ballots of one owners' decision, through the feature's own code (voting/decisions/paper).

``python -m bench.decisions_paper --units 10000`` (``--db sqlite|postgresql``; docs/performance.md,
"Paper ballots"):

1. a child process builds a fresh database (a SQLite file under /tmp, or PostgreSQL
   ``agora_bench_paper``) with a community of ``--units`` households in buildings of 250, each
   with one verified owner (bulk inserts, not measured), and a decision of ``--matters`` matters
   (an Art. 278 major matter, approve/reject matters and a single-choice one), announced;
2. ``paper_prepare``: a code for every unit (timed);
3. **the ballots PDF** through ``voting.decisions.paper.printing.ballots_pdf`` (what the page
   streams: the roster and codes read, the page laid out once, one stamped page per unit),
   written to a file; resident memory sampled as it streams; the page count, the last unit's
   room and code and one QR code (pdftoppm + zxing-cpp, where installed) checked;
   baseline in the same run: the same fills (roster read + codes) written as CSV;
4. **3 clerks** (``--clerks``), each a process of its own, enter the same ``--ballots`` returned
   ballots through ``paper_enter`` at once, each in its own order (so every ballot is raced by
   all of them): exactly one entry per ballot is counted, the others are told "already
   entered"; then the database is checked for lost or doubled entries (votes, paper entries,
   participations per matter); baseline: the same number of ``vote_record`` calls in one process.

Prints Markdown tables with the load average and peak RSS; writes JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "agora_bench_paper"
TARGET_PDF_S = 120.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红春梅海燕文斌晓东淑珍德福荣辉鑫宇浩然婷欣怡子轩梓涵雨泽"
ENTRY_URL = "https://agora.example.cn/decisions/{id}/paper/enter/?code="


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _setup() -> None:
    import django

    django.setup()


def _build(units: int, matters: int) -> dict[str, Any]:
    """The roster and the announced decision (in the child, on the fresh database)."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from agora.infra import clock
    from agora.roster.models import Building, Community, Household, Membership, Resident, Role, Tenure
    from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create
    from voting.models import MotionKind
    from voting.services import MotionSettings

    rng = random.Random(16)
    community = Community.objects.create(slug="bench-paper", name="港云里社区")
    clerks = []
    for n in range(3):
        clerk = User.objects.create(username=f"clerk{n + 1}", first_name=f"录入员{n + 1}")
        Membership.objects.create(user=clerk, community=community, role=Role.MODERATOR)
        clerks.append(clerk)
    buildings = Building.objects.bulk_create(Building(community=community, name=f"{b + 1}号楼") for b in range((units + 249) // 250))
    households = Household.objects.bulk_create(
        Household(
            building=buildings[i // 250],
            unit=str((i // 50) % 5 + 1),
            room=f"{(i // 10) % 5 + 1}{i % 10 + 1:02d}",
            exclusive_area=Decimal(f"{rng.uniform(38, 180):.2f}"),
            owner_key=f"O{i}",
        )
        for i in range(units)
    )
    users = User.objects.bulk_create(
        User(username=f"owner{i}", first_name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))))
        for i in range(units)
    )
    Resident.objects.bulk_create(
        Resident(user=u, household=h, community=community, tenure=Tenure.OWNER, verified=True)
        for u, h in zip(users, households, strict=True)
    )
    specs = [
        MatterSpec(
            text="关于使用专项维修资金更换3号楼、5号楼电梯的事项", settings=MotionSettings(kind=MotionKind.ART278, major_matter=True)
        )
    ]
    texts = ["关于选聘新物业服务企业的事项", "关于修订《管理规约》第十二条（车位使用）的事项", "关于调整地面停车位收费标准的事项"]
    for text in texts[: max(0, matters - 2)]:
        specs.append(MatterSpec(text=text, settings=MotionSettings()))
    if matters >= 2:
        specs.append(
            MatterSpec(
                text="新增充电棚的位置", settings=MotionSettings(kind=MotionKind.SINGLE, options=("东门停车场北侧", "3号楼西侧", "不增设"))
            )
        )
    now = clock.now()
    decision = decision_create(
        community=community,
        by=clerks[0],
        title="港云里小区2026年业主共同决定事项",
        opens_at=now + timedelta(days=16),
        closes_at=now + timedelta(days=26),
        matters=specs,
    )
    decision_announce(decision=decision, by=clerks[0])
    return {"decision_id": decision.pk, "clerk_ids": [c.pk for c in clerks]}


def _pdf_child(units: int, matters: int, keep: str | None) -> dict[str, Any]:
    _setup()
    from django.utils import translation

    translation.activate("zh-hans")  # the ballots as most communities print them
    from voting.decisions.paper import printing
    from voting.decisions.paper.services import paper_prepare
    from voting.models import Decision

    t0 = time.perf_counter()
    built = _build(units, matters)
    out: dict[str, Any] = {"units": units, "matters": matters, "fill_s": round(time.perf_counter() - t0, 1)}
    decision = Decision.objects.get(pk=built["decision_id"])
    from django.contrib.auth.models import User

    clerk = User.objects.get(pk=built["clerk_ids"][0])
    t0 = time.perf_counter()
    out["codes_made"] = paper_prepare(decision=decision, by=clerk)
    out["prepare_s"] = round(time.perf_counter() - t0, 2)
    entry_url = ENTRY_URL.format(id=decision.pk)
    work = Path(tempfile.mkdtemp(prefix="agora-bench-paper-"))
    pdf_path = Path(keep) if keep else work / "ballots.pdf"

    # Baseline: the same fills (roster and codes read, each unit's text), as CSV.
    t0 = time.perf_counter()
    with (work / "ballots.csv").open("w", newline="") as text_out:
        writer = csv.writer(text_out)
        for fill in printing.ballot_fills(decision, building_id=None, entry_url=entry_url):
            writer.writerow([fill["owner"], fill["room"], fill["area"], fill["weight"], fill["code"], getattr(fill["qr"], "text", "")])
    out["csv_s"] = round(time.perf_counter() - t0, 2)

    load_before = os.getloadavg()
    rss_before = rss_mib()
    samples: list[float] = []
    written = 0
    # ballots_pdf, step by step (the same calls), so that each part is timed
    from agora.infra.pdf import PdfTemplate, stream_pdf

    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    template = PdfTemplate.from_template(printing.TEMPLATE, printing.ballot_context(decision))
    out["layout_s"] = round(time.perf_counter() - t0, 2)
    t1 = time.perf_counter()
    fills = list(printing.ballot_fills(decision, building_id=None, entry_url=entry_url))
    out["fills_s"] = round(time.perf_counter() - t1, 2)
    t1 = time.perf_counter()
    with pdf_path.open("wb") as target:
        for i, chunk in enumerate(stream_pdf(template, iter(fills), title=decision.title)):
            target.write(chunk)
            written += len(chunk)
            if i % 20 == 0:
                samples.append(rss_mib())
    out["stamp_s"] = round(time.perf_counter() - t1, 2)
    out["pdf_cpu_s"] = round(_cpu_s() - cpu0, 2)  # this process's CPU time: what the load does not change
    pdf_s = time.perf_counter() - t0
    samples.append(rss_mib())
    out.update(
        {
            "pdf_s": round(pdf_s, 2),
            "pages_per_s": round(units / pdf_s, 0),
            "bytes": written,
            "rss_before_mib": round(rss_before),
            "rss_while_streaming_mib": [round(min(samples)), round(max(samples))],
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_before": [round(v, 2) for v in load_before],
            "load_after": [round(v, 2) for v in os.getloadavg()],
            "checks": _check_pdf(pdf_path, decision, units),
        }
    )
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _check_pdf(path: Path, decision: Any, units: int) -> dict[str, Any]:
    from pypdf import PdfReader

    from voting.decisions.paper.codes import code_printed
    from voting.models import BallotCode
    from voting.units import decision_units

    reader = PdfReader(path)
    last = decision_units(decision)[-1]
    code = BallotCode.objects.get(decision=decision, unit_key=last.unit_key).code
    text = reader.pages[-1].extract_text()
    checks: dict[str, Any] = {"pages": len(reader.pages), "last_unit_in_text": last.label in text and code_printed(code) in text}
    if shutil.which("pdftoppm"):
        try:
            import zxingcpp
            from PIL import Image
        except ImportError:
            return checks
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(units), "-l", str(units), str(path), f"{folder}/p"], check=True)
            image = Image.open(next(Path(folder).glob("p*.png")))
            checks["qr_decoded"] = [c.text for c in zxingcpp.read_barcodes(image)] == [ENTRY_URL.format(id=decision.pk) + code]
    return checks


def _clerks_setup_child(units: int, ballots: int) -> dict[str, Any]:
    """Build, prepare, open; the codes of ``ballots`` units and their choices for the clerks."""
    _setup()
    from django.contrib.auth.models import User

    from agora.infra import clock, jobs
    from voting.decisions.paper.services import paper_prepare
    from voting.models import BallotCode, Decision, DecisionState, Motion, MotionOption

    built = _build(units, 3)
    decision = Decision.objects.get(pk=built["decision_id"])
    paper_prepare(decision=decision, by=User.objects.get(pk=built["clerk_ids"][0]))
    clock.advance(16 * 86400 + 60)
    jobs.run_due()
    decision.refresh_from_db()
    assert decision.state == DecisionState.OPEN
    codes = list(BallotCode.objects.filter(decision=decision).order_by("?").values_list("code", flat=True)[:ballots])
    choices = {}
    for m in Motion.objects.filter(decision=decision):
        choices[str(m.pk)] = MotionOption.objects.filter(motion=m).order_by("position").values_list("pk", flat=True).first()
    return {**built, "codes": codes, "choices": choices}


def _clerk_child(decision_id: int, clerk_id: int, codes: list[str], choices: dict[str, int], start_at: float) -> dict[str, Any]:
    _setup()
    from django.contrib.auth.models import User

    from agora.infra.errors import Refused
    from voting.decisions.paper.services import paper_enter
    from voting.models import Decision

    decision = Decision.objects.get(pk=decision_id)
    clerk = User.objects.get(pk=clerk_id)
    picked = {int(k): v for k, v in choices.items()}
    outcomes: dict[str, int] = {}
    times: list[float] = []
    while time.time() < start_at:
        time.sleep(0.005)
    started = time.perf_counter()
    for code in codes:
        t = time.perf_counter()
        try:
            entered = paper_enter(decision=decision, by=clerk, typed_code=code, choices=dict(picked))
            key = entered.outcome
        except Refused as refusal:
            key = refusal.code
        times.append(time.perf_counter() - t)
        outcomes[key] = outcomes.get(key, 0) + 1
    return {
        "clerk_id": clerk_id,
        "seconds": round(time.perf_counter() - started, 2),
        "outcomes": outcomes,
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(sorted(times)[int(len(times) * 0.95)] * 1000, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _clerks_check_child(decision_id: int, ballots: int) -> dict[str, Any]:
    _setup()
    from django.db.models import Count

    from voting.decisions.ballots import vote_record
    from voting.models import Channel, Decision, DecisionVote, Motion, MotionOption, PaperEntry, Participation
    from voting.units import decision_units

    decision = Decision.objects.get(pk=decision_id)
    votes = DecisionVote.objects.filter(decision=decision)
    per_matter = [Participation.objects.filter(motion=m).count() for m in Motion.objects.filter(decision=decision)]
    doubled_units = votes.values("unit_key").annotate(n=Count("pk")).filter(n__gt=1).count()
    entries_per_vote = set(
        PaperEntry.objects.filter(vote__decision=decision).values("vote").annotate(n=Count("pk")).values_list("n", flat=True)
    )
    out = {
        "votes": votes.count(),
        "paper_entries": PaperEntry.objects.filter(vote__decision=decision).count(),
        "participations_per_matter": per_matter,
        "units_doubled": doubled_units,
        "entries_per_vote": sorted(entries_per_vote),
    }
    # Baseline: vote_record for as many other units, one after another in this process.
    voted = set(votes.values_list("unit_key", flat=True))
    others = [u for u in decision_units(decision) if u.unit_key not in voted][:ballots]
    choices = {
        m.pk: [MotionOption.objects.filter(motion=m).order_by("position").values_list("pk", flat=True)[0]]
        for m in Motion.objects.filter(decision=decision)
    }
    t0 = time.perf_counter()
    for unit in others:
        vote_record(decision=decision, unit=unit, choices=choices, channel=Channel.PAPER)
    out["baseline_vote_record_s"] = round(time.perf_counter() - t0, 2)
    out["baseline_ballots"] = len(others)
    return out


def _env(db: str) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="agora.settings", AGORA_VOTING_TIMERS="0")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if db == "sqlite":
        env["AGORA_SQLITE_PATH"] = os.environ.get("AGORA_BENCH_PAPER_DB", "/tmp/agora-bench-paper.sqlite3")
    else:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
    return env


def _fresh(db: str, env: dict[str, str]) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{env['AGORA_SQLITE_PATH']}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")


def _spawn(env: dict[str, str], call: str) -> subprocess.Popen[str]:
    code = f"import json, bench.decisions_paper as b; print('RESULT ' + json.dumps({call}))"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str], timeout: float = 3600) -> dict[str, Any]:
    stdout, stderr = proc.communicate(timeout=timeout)
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    raise RuntimeError(f"bench child failed:\n{stdout[-3000:]}\n{stderr[-5000:]}")


def run_pdf(db: str, units: int, matters: int, keep: str | None) -> dict[str, Any]:
    env = _env(db)
    _fresh(db, env)
    with tempfile.NamedTemporaryFile(prefix="agora-bench-clock-", delete=False) as f:
        f.write(b"0")
    env["AGORA_TEST_CLOCK_FILE"] = f.name
    try:
        return _result(_spawn(env, f"b._pdf_child({units}, {matters}, {keep!r})"))
    finally:
        Path(f.name).unlink(missing_ok=True)


def run_clerks(db: str, units: int, ballots: int, clerks: int) -> dict[str, Any]:
    env = _env(db)
    _fresh(db, env)
    with tempfile.NamedTemporaryFile(prefix="agora-bench-clock-", delete=False) as f:
        f.write(b"0")
    env["AGORA_TEST_CLOCK_FILE"] = f.name
    try:
        setup = _result(_spawn(env, f"b._clerks_setup_child({units}, {ballots})"))
        import random

        start_at = time.time() + 8.0  # every clerk's process has imported Django by then
        procs = []
        for n in range(clerks):
            order = list(setup["codes"])
            random.Random(n).shuffle(order)
            call = f"b._clerk_child({setup['decision_id']}, {setup['clerk_ids'][n % 3]}, {order!r}, {setup['choices']!r}, {start_at})"
            procs.append(_spawn(env, call))
        load_before = os.getloadavg()
        results = [_result(p) for p in procs]
        wall = max(r["seconds"] for r in results)
        check = _result(_spawn(env, f"b._clerks_check_child({setup['decision_id']}, {ballots})"))
        return {
            "db": db,
            "units": units,
            "ballots": ballots,
            "clerks": results,
            "wall_s": wall,
            "entries_per_s": round(ballots / wall, 1),
            "check": check,
            "load_before": [round(v, 2) for v in load_before],
            "load_after": [round(v, 2) for v in os.getloadavg()],
        }
    finally:
        Path(f.name).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.decisions_paper", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--matters", type=int, default=5)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--part", choices=["pdf", "clerks", "both"], default="both")
    parser.add_argument("--ballots", type=int, default=1000, help="returned ballots the clerks enter (default 1000)")
    parser.add_argument("--clerks", type=int, default=3)
    parser.add_argument("--keep", default=None, help="keep the PDF at this path")
    options = parser.parse_args(argv)
    report: dict[str, Any] = {"cores": os.cpu_count()}
    ok = True
    if options.part in {"pdf", "both"}:
        r = run_pdf(options.db, options.units, options.matters, options.keep)
        report["pdf"] = r
        print(f"## The ballots PDF ({options.db}, {os.cpu_count()} cores)")
        print(
            "| units | matters | prepare codes | baseline: fills as CSV | ballots PDF (layout + fills + stamping) | its CPU time | pages/s | size | RSS before → while streaming | peak RSS | load before → after | checks |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {r['units']:,} | {r['matters']} | {r['prepare_s']} s | {r['csv_s']} s | **{r['pdf_s']} s** ({r['layout_s']} + {r['fills_s']} + {r['stamp_s']}) | {r['pdf_cpu_s']} s | {r['pages_per_s']:.0f} | {r['bytes'] / 2**20:.1f} MiB "
            f"| {r['rss_before_mib']} → {r['rss_while_streaming_mib'][0]}–{r['rss_while_streaming_mib'][1]} MiB | {r['peak_rss_mib']} MiB "
            f"| {r['load_before'][0]} → {r['load_after'][0]} | {r['checks']} |"
        )
        ok = ok and r["pdf_s"] < TARGET_PDF_S and r["checks"]["pages"] == options.units
    if options.part in {"clerks", "both"}:
        c = run_clerks(options.db, min(options.units, max(options.ballots * 2, 2000)), options.ballots, options.clerks)
        report["clerks"] = c
        k = c["check"]
        print(
            f"\n## {options.clerks} clerks entering {options.ballots:,} returned ballots at once ({options.db}), every ballot raced by all"
        )
        print("| clerk | seconds | outcomes | per entry p50 / p95 | peak RSS |")
        print("|---|---|---|---|---|")
        for r in c["clerks"]:
            print(f"| {r['clerk_id']} | {r['seconds']} s | {r['outcomes']} | {r['p50_ms']} / {r['p95_ms']} ms | {r['peak_rss_mib']} MiB |")
        counted = sum(r["outcomes"].get("counted", 0) for r in c["clerks"])
        print(
            f"\nCounted {counted} of {options.ballots} in {c['wall_s']} s ({c['entries_per_s']}/s); database: {k['votes']} votes, {k['paper_entries']} paper entries, "
            f"participations per matter {k['participations_per_matter']}, units doubled {k['units_doubled']}, entries per vote {k['entries_per_vote']}; "
            f"baseline: {k['baseline_ballots']} vote_record calls in one process {k['baseline_vote_record_s']} s; load {c['load_before'][0]} → {c['load_after'][0]}"
        )
        ok = (
            ok and counted == options.ballots and k["votes"] == options.ballots and k["units_doubled"] == 0 and k["entries_per_vote"] == [1]
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"decisions-paper-{options.db}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
