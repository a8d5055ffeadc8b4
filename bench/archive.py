"""The archive benchmark: years of minutes for a district, then the archive pages' latency.

``python -m bench.archive --communities 150 --minutes 10000 --messages 1000000``
(small defaults for a quick run):

1. for each database (a SQLite file under /tmp, and PostgreSQL ``agora_bench_archive``
   when it runs on 127.0.0.1:5432) a child process builds a fresh database and fills it:
   communities, residents, archived topic sessions with agenda items and messages, and one
   published minutes record per session — its content built from those messages, sealed
   with the real ``chain.seal`` and indexed with the real ``search.index_fields`` (the
   publish service itself would take hours for 10,000 sessions; its pieces are the same);
2. checks the chain of the first community with the real verifier;
3. measures, with Django's in-process test client (no network at all), the archive list
   (pages and filters), search (Chinese 2- and 3-character words, English, as a visitor
   and as a member) and minutes pages; p50/p95/max in milliseconds;
4. prints a Markdown table and writes JSON under bench/results/.

Every phase is bounded: ``--max-seconds`` stops the fill early (the report says how much
was filled) and each measurement makes a fixed number of requests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "agora_bench_archive"
SQLITE_PATH = Path("/tmp/agora-bench-archive.sqlite3")
TARGET_P95_MS = 150.0

# --- Synthetic but realistic text ------------------------------------------------------------

TOPICS = [
    ("parking", ["新增停车位如何分配", "夜间停车难", "地库划线", "充电桩安装", "访客车辆管理", "共享停车试点"]),
    ("renovation", ["老楼加装电梯", "屋顶防水维修", "外墙保温改造", "楼道粉刷", "雨污分流改造"]),
    ("elderly_care", ["社区食堂助餐", "老年人助浴服务", "适老化改造", "日间照料中心"]),
    ("safety", ["电动车进楼治理", "消防通道占用", "楼道杂物清理", "监控探头加装"]),
    ("environment", ["垃圾分类投放点", "小区绿化补种", "宠物粪便治理", "噪音扰民"]),
    ("property", ["物业费调整", "物业服务评议", "维修基金使用", "门禁系统更换"]),
    ("neighbours", ["楼上漏水纠纷", "公共空间使用", "邻里节活动"]),
]
PHRASES = [
    "我同意这个方案",
    "希望尽快落实",
    "租户也应该有机会",
    "按户分配比较公平",
    "预算需要公开",
    "物业公司要给个说法",
    "晚上回来根本没有车位",
    "老人上下楼太难了",
    "施工期间噪音怎么办",
    "一楼住户担心采光",
    "费用怎么分摊",
    "建议先做问卷调查",
    "能不能错峰使用",
    "消防通道必须畅通",
    "我家有两辆车",
    "街道能不能协调",
    "充电桩要有人管理",
    "垃圾桶放得太近了",
    "希望增加照明",
    "维修基金要业主同意",
    "上班族白天不在家",
    "老年人不会用手机",
    "请把方案贴在楼道里",
    "下次会议再表决",
    "同意划线停车",
    "反对占用绿地",
    "门禁卡办理太慢",
]
ENGLISH = ["parking", "elevator", "budget", "survey", "charging", "property", "lighting", "repair"]


def _text(rng: random.Random) -> str:
    parts = [rng.choice(PHRASES) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.08:
        parts.append(f"the {rng.choice(ENGLISH)} plan")
    return "，".join(parts) + rng.choice(["。", "？", "！"])


# --- Parent: one child process per database ---------------------------------------------------


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _pg_recreate() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.archive", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--communities", type=int, default=10)
    parser.add_argument("--minutes", type=int, default=300, help="published minutes in all (one per session)")
    parser.add_argument("--messages", type=int, default=30_000, help="messages in all (spread over the sessions)")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--requests", type=int, default=100, help="requests per measured case")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop filling after this long (per database)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure-only", action="store_true", help="measure the database the last run filled, without refilling")
    parser.add_argument("--out", default=None, help="JSON file (default bench/results/archive-<time>.json)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = parse(argv)
    if options.child:
        return _child(options)
    results: list[dict[str, Any]] = []
    for name in [d for d in options.databases.split(",") if d]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "AGORA_SQLITE_PATH", "REDIS_URL"}}
        if name == "sqlite":
            if not options.measure_only:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
            env["AGORA_SQLITE_PATH"] = str(SQLITE_PATH)
        elif name == "postgres":
            if not _pg_reachable():
                print("PostgreSQL is not running on 127.0.0.1:5432: skipped", file=sys.stderr)
                continue
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}" if options.measure_only else _pg_recreate()
        else:
            print(f"unknown database {name!r}", file=sys.stderr)
            return 2
        env["DJANGO_SETTINGS_MODULE"] = "agora.settings"
        out = RESULTS / f"archive-{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        args = (
            [sys.executable, "-m", "bench.archive", "--child", str(out)]
            + [
                f"--{k.replace('_', '-')}={v}"
                for k, v in vars(options).items()
                if k not in {"child", "out", "databases", "measure_only"} and v is not None
            ]
            + (["--measure-only"] if options.measure_only else [])
        )
        # A child can't outlive its own bound by much: fill bound + measurement + margin.
        subprocess.run(args, cwd=ROOT, env=env, check=True, timeout=options.max_seconds * 2 + 600)
        results.append(json.loads(out.read_text()))
    print(render(results))
    if options.out:
        Path(options.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        f = r["filled"]
        lines.append(
            f"### {r['database']} — {f['communities']} communities, {f['minutes']} minutes, {f['messages']} messages, "
            f"{f['search_tokens']} search rows (fill {f['seconds']:.0f} s{', stopped early at --max-seconds' if f['stopped_early'] else ''})"
        )
        lines.append("")
        if r.get("load_average"):
            lines.append(f"Load average while measuring: {r['load_average'][0]} → {r['load_average'][1]} on {r['cpus']} CPUs.")
            lines.append("")
        lines.append("| case | requests | p50 ms | p95 ms | max ms | p95 < 150 ms |")
        lines.append("|---|---:|---:|---:|---:|---|")
        for case in r["cases"]:
            ok = "yes" if case["p95_ms"] < TARGET_P95_MS else "**no**"
            lines.append(f"| {case['name']} | {case['n']} | {case['p50_ms']:.1f} | {case['p95_ms']:.1f} | {case['max_ms']:.1f} | {ok} |")
        lines.append("")
    return "\n".join(lines)


# --- Child: fill one database and measure ------------------------------------------------------


def _child(options: argparse.Namespace) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    os.environ.setdefault("AGORA_PASSWORD_HASHERS", "md5")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    started = time.monotonic()
    if options.measure_only:
        filled = _size()
    else:
        filled = _fill(options, deadline=started + options.max_seconds)
        filled["seconds"] = time.monotonic() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _check_chain()
    load_before = os.getloadavg()[0]
    cases = _measure(options)
    load_after = os.getloadavg()[0]
    result = {
        "database": connection.vendor,
        "filled": filled,
        "cases": cases,
        "at": datetime.now(UTC).isoformat(),
        # The machine is shared: the 1-minute load average says how busy it was while measuring.
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "cpus": os.cpu_count(),
    }
    Path(options.child).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _fill(options: argparse.Namespace, *, deadline: float) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from agora.infra import hashchain as chain
    from agora.roster.models import (
        Building,
        Community,
        Household,
        Membership,
        Resident,
        Role,
        Tenure,
    )
    from records import search
    from records.content import outcome_of
    from records.models import ChainHead, MinutesRecord, SearchToken
    from sessions.models import AgendaItem, Message, SessionState, TopicSession

    rng = random.Random(options.seed)
    User = get_user_model()
    password = make_password("bench-archive")
    # Sessions per community: the remainder goes to the first communities, so the total is exact.
    base, extra = divmod(options.minutes, options.communities)
    per_minutes = max(1, options.messages // max(1, options.minutes))
    counts = {"communities": 0, "minutes": 0, "messages": 0, "search_tokens": 0, "stopped_early": False}
    next_record_id = 1
    today = datetime.now(UTC).date()
    for c_index in range(options.communities):
        if time.monotonic() > deadline:
            counts["stopped_early"] = True
            break
        with transaction.atomic():
            community = Community.objects.create(slug=f"b{c_index:03d}", name=f"社区{c_index:03d}", district="河西区")
            moderator = User.objects.create(username=f"b{c_index:03d}-mod", first_name="主持人", password=password)
            Membership.objects.create(user=moderator, community=community, role=Role.MODERATOR)
            buildings = [Building.objects.create(community=community, name=f"{b}号楼") for b in range(1, 6)]
            residents = User.objects.bulk_create(
                [User(username=f"b{c_index:03d}-r{r:02d}", first_name=f"居民{r:02d}", password=password) for r in range(20)]
            )
            households = Household.objects.bulk_create(
                [Household(building=buildings[r % 5], unit="1", room=str(101 + r), owner_key=f"b{c_index}-{r}") for r in range(20)]
            )
            Resident.objects.bulk_create(
                [
                    Resident(user=u, household=h, community=community, tenure=Tenure.OWNER, verified=True)
                    for u, h in zip(residents, households, strict=True)
                ]
            )
            sessions = []
            for _m_index in range(max(1, base + (1 if c_index < extra else 0))):
                category, titles = rng.choice(TOPICS)
                held = today - timedelta(days=rng.randint(0, 5 * 365))
                title = f"{rng.randint(1, 5)}号楼{rng.choice(titles)}" if rng.random() < 0.5 else rng.choice(titles)
                sessions.append(
                    TopicSession(
                        community=community,
                        title=title,
                        category=category,
                        starts_at=datetime(held.year, held.month, held.day, 11, 0, tzinfo=UTC),
                        place="社区活动室",
                        state=SessionState.ARCHIVED,
                        created_by=moderator,
                    )
                )
            sessions = TopicSession.objects.bulk_create(sessions)
            sessions.sort(key=lambda s: s.starts_at)
            items = AgendaItem.objects.bulk_create(
                [AgendaItem(session=s, position=p, title=t) for s in sessions for p, t in ((1, "情况通报"), (2, "讨论与表决"))]
            )
            items_of = {s.pk: [i for i in items if i.session_id == s.pk] for s in sessions}
            messages: list[Message] = []
            records: list[MinutesRecord] = []
            tokens: list[SearchToken] = []
            prev = chain.GENESIS
            for seq, session in enumerate(sessions, start=1):
                agenda = items_of[session.pk]
                transcript: dict[int, list[dict[str, Any]]] = {i.pk: [] for i in agenda}
                hidden = 0
                for n in range(1, per_minutes + 1):
                    author = rng.choice(residents)
                    item = agenda[0] if n <= per_minutes // 3 else agenda[1]
                    text = _text(rng)
                    is_hidden = rng.random() < 0.01
                    at = session.starts_at + timedelta(seconds=20 * n)
                    messages.append(
                        Message(session=session, seq=n, author=author, text_html=text, agenda_item=item, created_at=at, hidden=is_hidden)
                    )
                    if is_hidden:
                        hidden += 1
                        continue
                    transcript[item.pk].append(
                        {
                            "seq": n,
                            "at": at.isoformat().replace("+00:00", "Z"),
                            "author": None,
                            "building": buildings[residents.index(author) % 5].name,
                            "role": "resident",
                            "before_start": False,
                            "text": text,
                        }
                    )
                outcome = rng.choice(["passed", "passed", "passed", "failed", None])
                public = rng.random() < 0.7
                published_at = session.starts_at + timedelta(days=2)
                content = _content(session, community, agenda, transcript, hidden, outcome, public, published_at, rng, moderator.pk)
                record_id = next_record_id
                next_record_id += 1
                canonical, digest = chain.seal(community=community.slug, record_id=record_id, seq=seq, prev_hash=prev, minutes=content)
                records.append(
                    MinutesRecord(
                        pk=record_id,
                        community=community,
                        session=session,
                        seq=seq,
                        prev_hash=prev,
                        content_hash=digest,
                        canonical=canonical,
                        title=session.title,
                        category=session.category,
                        outcome=outcome_of(content),
                        visibility=content["visibility"],
                        held_on=date.fromisoformat(content["held_on"]),
                        published_at=published_at,
                        published_by=moderator,
                    )
                )
                for token, bits in search.index_fields(search.search_texts(content)).items():
                    tokens.append(SearchToken(record_id=record_id, token=token, fields=bits))
                prev = digest
            Message.objects.bulk_create(messages, batch_size=5000)
            MinutesRecord.objects.bulk_create(records, batch_size=500)
            SearchToken.objects.bulk_create(tokens, batch_size=5000)
            ChainHead.objects.create(community=community, head_hash=prev, length=len(records))
        counts["communities"] += 1
        counts["minutes"] += len(records)
        counts["messages"] += len(messages)
        counts["search_tokens"] += len(tokens)
        print(
            f"  {connection.vendor}: community {c_index + 1}/{options.communities}, {counts['minutes']} minutes",
            file=sys.stderr,
            flush=True,
        )
    if connection.vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [MinutesRecord]):
                cursor.execute(sql)
    return counts


def _size() -> dict[str, Any]:
    from agora.roster.models import Community
    from records.models import MinutesRecord, SearchToken
    from sessions.models import Message

    return {
        "communities": Community.objects.count(),
        "minutes": MinutesRecord.objects.count(),
        "messages": Message.objects.count(),
        "search_tokens": SearchToken.objects.count(),
        "stopped_early": False,
        "seconds": 0.0,
        "reused": True,
    }


def _content(
    session: Any,
    community: Any,
    agenda: list[Any],
    transcript: dict[int, list[dict[str, Any]]],
    hidden: int,
    outcome: str | None,
    public: bool,
    published_at: datetime,
    rng: random.Random,
    publisher_id: int,
) -> dict[str, Any]:
    """The same shape records.content.minutes_content builds (docs/minutes-schema.json)."""
    from records.content import SCHEMA, held_on

    iso = lambda d: d.isoformat().replace("+00:00", "Z")  # noqa: E731
    motions, resolutions = [], []
    if outcome:
        yes, no = rng.randint(10, 60), rng.randint(0, 30)
        motions.append(
            {
                "id": session.pk,
                "agenda_item_id": agenda[1].pk,
                "text": f"同意{session.title}方案",
                "kind": "approve_reject",
                "secret": True,
                "outcome": outcome,
                "summary": "赞成/反对 · 过半数",
                "opened_at": iso(session.starts_at),
                "closed_at": iso(session.starts_at),
                "options": [
                    {"label": "Yes", "code": "yes", "online": yes, "in_person": 3, "total": yes + 3},
                    {"label": "No", "code": "no", "online": no, "in_person": 1, "total": no + 1},
                ],
                "result": {},
            }
        )
        resolutions.append(
            {
                "id": session.pk,
                "motion_id": session.pk,
                "text": f"同意{session.title}方案",
                "outcome": outcome,
                "summary": "赞成/反对 · 过半数",
                "decided_at": iso(session.starts_at),
                "receipt_count": yes + no,
            }
        )
    return {
        "schema": SCHEMA,
        "kind": "original",
        "corrects": None,
        "community": {"slug": community.slug, "name": community.name},
        "session": {
            "id": session.pk,
            "title": session.title,
            "category": session.category,
            "place": session.place,
            "starts_at": iso(session.starts_at),
            "adjourned_at": iso(session.starts_at + timedelta(hours=2)),
            "description": "",
        },
        "visibility": "public" if public else "members",
        "attendance": {
            "online": 20,
            "in_person": 12,
            "total": 32,
            "signed_up": 25,
            "in_person_source": "check_in",
            "by_building": [{"building": f"{b}号楼", "online": 4, "in_person": 2} for b in range(1, 6)]
            + [{"building": "", "online": 0, "in_person": 2}],
        },
        "general": {"summary": "", "messages": [], "hidden_count": 0, "motion_ids": []},
        "agenda": [
            {
                "id": item.pk,
                "position": item.position,
                "title": item.title,
                "summary": f"会议讨论了{session.title}，{rng.choice(PHRASES)}。" if item.position == 2 else "",
                "messages": transcript[item.pk],
                "hidden_count": hidden if item.position == 1 else 0,
                "motion_ids": [m["id"] for m in motions] if item.position == 2 else [],
            }
            for item in agenda
        ],
        "motions": motions,
        "resolutions": resolutions,
        "action_items": [
            {
                "id": session.pk,
                "what": f"落实{session.title}",
                "responsible": "物业公司",
                "due_on": None,
                "status": "pending",
                "resolution_id": None,
            }
        ]
        if outcome == "passed"
        else [],
        "held_on": held_on(session.starts_at),
        "published_at": iso(published_at),
        "published_by": "主持人",
        "published_by_id": publisher_id,
    }


def _check_chain() -> None:
    from agora.roster.models import Community
    from records.verification import chain_verify

    first = Community.objects.order_by("slug").first()
    if first is not None:
        verdict = chain_verify(community=first)
        if not verdict.ok:
            raise SystemExit(f"bench data failed chain verification: {verdict.problem}")


def _measure(options: argparse.Namespace) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from agora.roster.models import Community
    from records.models import MinutesRecord

    rng = random.Random(options.seed + 1)
    n = options.requests
    visitor = Client()
    member = Client()
    member_user = get_user_model().objects.filter(username__endswith="-r01").order_by("username").first()
    if member_user is not None:
        member.force_login(member_user)
    slugs = list(Community.objects.values_list("slug", flat=True))
    record_ids = list(MinutesRecord.objects.filter(visibility="public").values_list("pk", flat=True))
    years = sorted({d.year for d in MinutesRecord.objects.dates("held_on", "year")})
    categories = [c for c, _t in TOPICS]
    total = MinutesRecord.objects.filter(visibility="public").count()
    last_page = max(1, (total + 19) // 20)

    def timed(client: Client, make_url: Any) -> dict[str, float]:
        samples = []
        for _ in range(3):  # warm-up
            client.get(make_url())
        for _ in range(n):
            url = make_url()
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        samples.sort()
        return {
            "n": n,
            "p50_ms": statistics.median(samples),
            "p95_ms": samples[max(0, round(0.95 * n) - 1)],
            "max_ms": samples[-1],
        }

    cases: list[tuple[str, Client, Any]] = [
        ("archive list, first page (visitor)", visitor, lambda: "/archive/"),
        ("archive list, random page (visitor)", visitor, lambda: f"/archive/?page={rng.randint(1, last_page)}"),
        ("archive list, community + year (visitor)", visitor, lambda: f"/archive/?community={rng.choice(slugs)}&year={rng.choice(years)}"),
        ("archive list, category (member)", member, lambda: f"/archive/?category={rng.choice(categories)}"),
        ("search 停车 (2 chars, common; visitor)", visitor, lambda: "/archive/?q=停车"),
        ("search 电梯 (visitor)", visitor, lambda: "/archive/?q=电梯"),
        ("search 停车位 (3 chars; visitor)", visitor, lambda: "/archive/?q=停车位"),
        ("search random phrase word (member)", member, lambda: f"/archive/?q={rng.choice(PHRASES)[1:3]}"),
        ("search English word (visitor)", visitor, lambda: f"/archive/?q={rng.choice(ENGLISH)}"),
        ("search 停车, page 5 (visitor)", visitor, lambda: "/archive/?q=停车&page=5"),
        ("minutes page (visitor)", visitor, lambda: f"/minutes/{rng.choice(record_ids)}/"),
        ("minutes print page (visitor)", visitor, lambda: f"/minutes/{rng.choice(record_ids)}/print/"),
    ]
    results = []
    for name, client, make_url in cases:
        results.append({"name": name, **timed(client, make_url)})
        print(f"  measured {name}: p95 {results[-1]['p95_ms']:.1f} ms", file=sys.stderr, flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
