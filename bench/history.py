"""The session page with a long history: page bytes and server time at 100 and at 10,000 messages.

``python -m bench.history --messages 10000 --requests 30``

A child process builds a fresh SQLite database (``/tmp/agora-bench-history.sqlite3``; with
``--postgres`` also PostgreSQL ``agora_bench_history`` when it runs on 127.0.0.1:5432): one
community, 40 residents in 8 buildings, a moderator, and two live sessions, one with 100 messages
and one with ``--messages`` (replies and reactions among them). It then requests each session's
page as a resident with Django's in-process test client (no network): the HTML's size, the number
of messages it shows, and the server time (median and 95th percentile over ``--requests`` after
3 warm-ups), plus one page of earlier messages (``?before=``) in the long session. The machine is
shared, so the 1-minute load average is reported beside the times. Numbers in docs/performance.md,
"Session page history".
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SQLITE_PATH = Path("/tmp/agora-bench-history.sqlite3")
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "agora_bench_history"
PHRASES = [
    "我同意这个方案",
    "希望尽快落实",
    "租户也应该有机会",
    "按户分配比较公平",
    "预算需要公开",
    "晚上东门车很多",
    "建议先试行三个月",
    "老人出行要方便",
]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=10_000, help="messages in the long session")
    p.add_argument("--requests", type=int, default=30, help="timed requests per page")
    p.add_argument("--postgres", action="store_true", help="also on PostgreSQL (127.0.0.1:5432)")
    p.add_argument("--out", help="write the results as JSON here too")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    options = parse(argv)
    if options.child:
        return _child(options)
    results = []
    for name in ["sqlite", *(["postgres"] if options.postgres else [])]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "AGORA_SQLITE_PATH", "REDIS_URL"}}
        if name == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
            env["AGORA_SQLITE_PATH"] = str(SQLITE_PATH)
        else:
            if not _pg_reachable():
                print("PostgreSQL is not running on 127.0.0.1:5432: skipped", file=sys.stderr)
                continue
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
        env["DJANGO_SETTINGS_MODULE"] = "agora.settings"
        out = RESULTS / f"history-{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "bench.history",
            "--child",
            str(out),
            f"--messages={options.messages}",
            f"--requests={options.requests}",
        ]
        subprocess.run(args, cwd=ROOT, env=env, check=True, timeout=1800)
        results.append(json.loads(out.read_text()))
    print(render(results))
    if options.out:
        Path(options.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        lines.append(
            f"\n{r['database']}, {r['cpus']} CPUs, load average {r['load_average'][0]} → {r['load_average'][1]}; "
            f"server time ratio {r['ratio_p50']:.2f}× (long / short, median)\n"
        )
        lines.append("| page | messages in the session | messages shown | HTML bytes | p50 ms | p95 ms |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for c in r["cases"]:
            lines.append(f"| {c['name']} | {c['history']:,} | {c['shown']} | {c['bytes']:,} | {c['p50_ms']:.1f} | {c['p95_ms']:.1f} |")
    return "\n".join(lines)


def _child(options: argparse.Namespace) -> int:
    import django

    os.environ.setdefault("AGORA_PASSWORD_HASHERS", "md5")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    short, long_, resident = _fill(options.messages)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load_before = os.getloadavg()[0]
    cases = _measure(options.requests, short, long_, resident)
    load_after = os.getloadavg()[0]
    by_name = {c["name"]: c for c in cases}
    result = {
        "database": connection.vendor,
        "cases": cases,
        "ratio_p50": by_name["long session, latest"]["p50_ms"] / by_name["short session"]["p50_ms"],
        "at": datetime.now(UTC).isoformat(),
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "cpus": os.cpu_count(),
    }
    Path(options.child).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _fill(messages: int) -> tuple[int, int, int]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from agora.roster.models import Building, Community, Household, Membership, Resident, Role, Tenure
    from sessions.models import Message, Reaction, SessionState, TopicSession

    rng = random.Random(17)
    User = get_user_model()
    community = Community.objects.create(slug="bench-history", name="历史基准社区")
    moderator = User.objects.create(username="bench-mod", first_name="主持人")
    Membership.objects.create(user=moderator, community=community, role=Role.MODERATOR)
    residents = []
    for i in range(40):
        building, _ = Building.objects.get_or_create(community=community, name=f"{i % 8 + 1}号楼")
        household = Household.objects.create(building=building, unit="1", room=str(101 + i), exclusive_area="80.00", owner_key=f"H{i}")
        user = User.objects.create(username=f"bench-r{i:02d}", first_name=f"居民{i:02d}")
        Resident.objects.create(user=user, community=community, household=household, tenure=Tenure.OWNER, verified=True)
        residents.append(user)
    ids = []
    now = timezone.now()
    for title, count in (("短的议题", 100), ("很长的议题", messages)):
        session = TopicSession.objects.create(
            community=community,
            created_by=moderator,
            title=title,
            category="parking",
            starts_at=now - timedelta(hours=3),
            state=SessionState.LIVE,
        )
        rows = [
            Message(
                session=session,
                author=rng.choice(residents),
                seq=seq,
                text_html="，".join(rng.sample(PHRASES, 3)) + "。",
                created_at=now - timedelta(seconds=count - seq),
            )
            for seq in range(1, count + 1)
        ]
        Message.objects.bulk_create(rows, batch_size=2000)
        stored = list(Message.objects.filter(session=session).order_by("seq").values_list("pk", flat=True))
        replies = [Message(pk=pk, reply_to_id=stored[rng.randrange(0, i)]) for i, pk in enumerate(stored) if i and rng.random() < 0.15]
        Message.objects.bulk_update(replies, ["reply_to"], batch_size=2000)
        Reaction.objects.bulk_create(
            [
                Reaction(message_id=pk, user=rng.choice(residents), kind=rng.choice(["agree", "disagree"]))
                for pk in rng.sample(stored, len(stored) // 5)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        ids.append(session.pk)
    return ids[0], ids[1], residents[0].pk


def _measure(requests: int, short: int, long_: int, resident_id: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=resident_id))

    def timed(name: str, url: str, history: int) -> dict[str, Any]:
        for _ in range(3):
            client.get(url)
        samples = []
        body = b""
        for _ in range(requests):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            body = response.content
        samples.sort()
        case = {
            "name": name,
            "url": url,
            "history": history,
            "shown": body.count(b'<li class="message'),
            "bytes": len(body),
            "p50_ms": statistics.median(samples),
            "p95_ms": samples[max(0, round(0.95 * requests) - 1)],
        }
        print(f"  {name}: {case['bytes']:,} bytes, p50 {case['p50_ms']:.1f} ms", file=sys.stderr, flush=True)
        return case

    from sessions.models import Message

    long_count = Message.objects.filter(session_id=long_).count()
    return [
        timed("short session", f"/sessions/{short}/", 100),
        timed("long session, latest", f"/sessions/{long_}/", long_count),
        timed("long session, earlier page", f"/sessions/{long_}/?before={long_count // 2}", long_count),
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
