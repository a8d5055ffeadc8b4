"""One owners' decision with 10,000 voting units, through the real services.

``python -m bench.decisions --units 10000`` (``--db sqlite|postgresql``):

1. a child process builds a fresh database (a SQLite file under /tmp, or PostgreSQL
   ``agora_bench_decisions`` on 127.0.0.1:5432) and fills a community of ``--units`` households
   in buildings of 100, each with one verified owner (bulk inserts: the roster is not measured);
2. creates and announces a decision with two matters (an Art. 278 major matter and an
   approve/reject matter) — the notice reads the whole roster for its base;
3. moves the test clock into the period, opens it through the job, and records every unit's
   ballot with ``vote_record`` across the channels (online, paper, door to door) — p50/p95/max
   per ballot;
4. closes it through the job (both matters counted, the preliminary result sealed);
5. baseline in the same run: the same number of rows written by one ``bulk_create`` of
   participations — what the database alone costs — so the ratio holds on a noisy machine.

Prints a Markdown table with the load average; writes JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
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
PG_BENCH_DB = "agora_bench_decisions"


def _child(units: int, max_seconds: float) -> dict[str, Any]:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from agora.infra import clock, jobs
    from agora.roster.models import Building, Community, Household, Membership, Resident, Role, Tenure
    from voting.decisions.ballots import vote_record
    from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create
    from voting.models import Channel, DecisionState, Motion, MotionKind, MotionOption, Participation
    from voting.services import MotionSettings
    from voting.units import decision_units

    out: dict[str, Any] = {"units": units, "db": connection.vendor}
    community = Community.objects.create(slug="bench", name="基准社区")
    moderator = User.objects.create(username="bench-mod")
    Membership.objects.create(user=moderator, community=community, role=Role.MODERATOR)
    t0 = time.perf_counter()
    buildings = Building.objects.bulk_create(Building(community=community, name=f"{b + 1}号楼") for b in range((units + 99) // 100))
    households = Household.objects.bulk_create(
        Household(
            building=buildings[i // 100],
            unit="1",
            room=f"{(i % 100) // 4 + 1:02d}{i % 4 + 1:02d}",
            exclusive_area=Decimal("60.00") + i % 60,
            owner_key=f"O{i}",
        )
        for i in range(units)
    )
    users = User.objects.bulk_create(User(username=f"owner{i}", first_name=f"业主{i}") for i in range(units))
    Resident.objects.bulk_create(
        Resident(user=u, household=h, community=community, tenure=Tenure.OWNER, verified=True)
        for u, h in zip(users, households, strict=True)
    )
    out["fill_s"] = round(time.perf_counter() - t0, 2)

    now = clock.now()
    from datetime import timedelta

    matters = [
        MatterSpec(text="在小区东侧空地增设停车位", settings=MotionSettings(kind=MotionKind.ART278, major_matter=True)),
        MatterSpec(text="停车位按摇号分配", settings=MotionSettings()),
    ]
    t0 = time.perf_counter()
    decision = decision_create(
        community=community,
        by=moderator,
        title="基准表决",
        opens_at=now + timedelta(days=16),
        closes_at=now + timedelta(days=26),
        matters=matters,
    )
    decision_announce(decision=decision, by=moderator)
    out["announce_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    t0 = time.perf_counter()
    roster = decision_units(decision)
    out["roster_read_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    assert len(roster) == units

    clock.advance(16 * 86400 + 60)
    jobs.run_due()
    decision.refresh_from_db()
    assert decision.state == DecisionState.OPEN

    yes = {m.pk: [MotionOption.objects.get(motion=m, code="yes").pk] for m in Motion.objects.filter(decision=decision)}
    channels = [Channel.ONLINE, Channel.PAPER, Channel.DOOR]
    by_key = {u.unit_key: u for u in decision_units(decision)}
    times: list[float] = []
    started = time.perf_counter()
    for i, (unit_key, unit) in enumerate(by_key.items()):
        if time.perf_counter() - started > max_seconds:
            break
        t = time.perf_counter()
        vote_record(
            decision=decision,
            unit=unit,
            choices=yes,
            channel=channels[i % 3],
            voter=users[i] if i % 3 == 0 else None,
            recorded_by=moderator if i % 3 else None,
        )
        times.append(time.perf_counter() - t)
        _ = unit_key
    out["ballots"] = len(times)
    out["ballot_ms"] = {
        "p50": round(statistics.median(times) * 1000, 2),
        "p95": round(sorted(times)[int(len(times) * 0.95)] * 1000, 2),
        "max": round(max(times) * 1000, 2),
        "per_s": round(len(times) / (time.perf_counter() - started), 1),
    }

    clock.advance(11 * 86400)
    t0 = time.perf_counter()
    jobs.run_due()
    out["close_s"] = round(time.perf_counter() - t0, 2)
    decision.refresh_from_db()
    assert decision.state == DecisionState.PRELIMINARY

    # Baseline: the rows a ballot writes per matter, in one bulk insert.
    matter = Motion.objects.filter(decision=decision).first()
    assert matter is not None
    Participation.objects.filter(motion=matter).delete()
    t0 = time.perf_counter()
    Participation.objects.bulk_create(Participation(motion=matter, unit_key=f"b:{i}", channel="online") for i in range(len(times)))
    out["baseline_bulk_s"] = round(time.perf_counter() - t0, 3)
    return out


def _run(db: str, units: int, max_seconds: float) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="agora.settings")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    clock_file = Path(tempfile.mkstemp(prefix="agora-bench-clock-")[1])
    clock_file.write_text("0")
    env["AGORA_TEST_CLOCK_FILE"] = str(clock_file)
    env["AGORA_VOTING_TIMERS"] = "0"
    if db == "sqlite":
        path = Path("/tmp/agora-bench-decisions.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["AGORA_SQLITE_PATH"] = str(path)
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
    code = f"import json, bench.decisions as b; print('RESULT ' + json.dumps(b._child({units}, {max_seconds})))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=max_seconds + 900)
    clock_file.unlink(missing_ok=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    raise RuntimeError(f"bench child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop recording ballots after this long")
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    load = os.getloadavg()
    rows = [_run(db, args.units, args.max_seconds) for db in dbs]
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (before); {os.cpu_count()} cores")
    print(
        "| db | units | roster read | announce | ballots | per ballot p50 / p95 / max | ballots/s | close (count) | baseline bulk | ballots ÷ baseline |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b = r["ballot_ms"]
        total = r["ballots"] / b["per_s"]
        print(
            f"| {r['db']} | {r['units']} | {r['roster_read_ms']} ms | {r['announce_ms']} ms | {r['ballots']} | {b['p50']} / {b['p95']} / {b['max']} ms | {b['per_s']} | {r['close_s']} s | {r['baseline_bulk_s']} s | {total / max(r['baseline_bulk_s'], 1e-3):.0f}× |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"decisions-{int(time.time())}.json").write_text(json.dumps({"load": load, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
