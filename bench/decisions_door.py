"""Door to door at 10,000 voting units: the pages a grid worker and a moderator open.

``python -m bench.decisions_door --units 10000`` (SQLite file under /tmp, fresh each run):
a community of ``--units`` households in buildings of 100, one verified owner each with a phone,
a grid worker whose grid holds 2 buildings (200 units), a decision with two matters, open, a
third of the units voted (bulk rows: the roster and the votes are not measured). Then, through
Django's test client (the whole request: rules, selectors, template), ``--rounds`` times each:

- the grid worker's start page (their 200 units) and a room search;
- the moderator's start page (every unit) and the 扫楼 list of every unit not voted, and its CSV;
- one door-to-door ballot recorded (form → check → record), p50 over the rounds.

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


def _child(units: int, rounds: int) -> dict[str, Any]:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0, interactive=False)
    from agora.infra import clock
    from agora.roster.models import Building, Community, Grid, Household, Membership, Resident, Role, Tenure
    from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create, decision_open_due
    from voting.models import Channel, DecisionVote, Motion, MotionKind, MotionOption
    from voting.services import MotionSettings
    from voting.units import decision_units

    community = Community.objects.create(slug="bench", name="基准社区")
    moderator = User.objects.create(username="bench-mod")
    Membership.objects.create(user=moderator, community=community, role=Role.MODERATOR)
    grid = Grid.objects.create(community=community, name="第一网格")
    buildings = Building.objects.bulk_create(
        Building(community=community, name=f"{b + 1}号楼", grid=grid if b < 2 else None) for b in range((units + 99) // 100)
    )
    worker = User.objects.create(username="bench-grid")
    Membership.objects.create(user=worker, community=community, role=Role.GRID_WORKER).grids.set([grid])
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
        Resident(user=u, household=h, community=community, tenure=Tenure.OWNER, verified=True, phone=f"138{i:08d}")
        for i, (u, h) in enumerate(zip(users, households, strict=True))
    )
    now = clock.now()
    from datetime import timedelta

    decision = decision_create(
        community=community,
        by=moderator,
        title="基准表决",
        opens_at=now + timedelta(days=16),
        closes_at=now + timedelta(days=26),
        matters=[
            MatterSpec(text="增设停车位", settings=MotionSettings(kind=MotionKind.ART278, major_matter=True)),
            MatterSpec(text="摇号分配", settings=MotionSettings()),
        ],
    )
    decision_announce(decision=decision, by=moderator)
    clock.advance(16 * 86400 + 60)
    decision_open_due(decision_id=decision.pk)
    all_units = decision_units(decision)
    at = clock.now()
    DecisionVote.objects.bulk_create(
        DecisionVote(decision=decision, unit_key=u.unit_key, channel=Channel.ONLINE, at=at) for u in all_units[2::3]
    )
    worker_client, mod_client = Client(), Client()
    worker_client.force_login(worker)
    mod_client.force_login(moderator)
    start = reverse("decisions:door_start", kwargs={"decision_id": decision.pk})
    listing = reverse("decisions:door_list", kwargs={"decision_id": decision.pk})
    csv_url = reverse("decisions:door_list_csv", kwargs={"decision_id": decision.pk})
    ballot = reverse("decisions:door_ballot", kwargs={"decision_id": decision.pk})

    def timed(client: Client, url: str, data: dict[str, Any] | None = None, post: bool = False) -> tuple[float, int]:
        t0 = time.perf_counter()
        response = client.post(url, data or {}) if post else client.get(url, data or {})
        assert response.status_code == 200, (url, response.status_code)
        return (time.perf_counter() - t0) * 1000, len(response.content)

    out: dict[str, Any] = {"units": units, "rounds": rounds}
    cases = {
        "grid worker: start page (200 units)": (worker_client, start, None),
        "grid worker: search a room": (worker_client, start, {"room": "0102"}),
        "grid worker: 扫楼 list": (worker_client, listing, None),
        f"moderator: start page ({units} units)": (mod_client, start, None),
        "moderator: 扫楼 list (every unit not voted)": (mod_client, listing, None),
        "moderator: 扫楼 list CSV": (mod_client, csv_url, None),
    }
    for name, (client, url, data) in cases.items():
        times, size = [], 0
        for _ in range(rounds):
            ms, size = timed(client, url, data)
            times.append(ms)
        out[name] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "bytes": size}
    matters = list(Motion.objects.filter(decision=decision).order_by("position"))
    yes = {m.pk: MotionOption.objects.get(motion=m, code="yes").pk for m in matters}
    voted = set(DecisionVote.objects.values_list("unit_key", flat=True))
    mine = {buildings[0].pk, buildings[1].pk}
    todo = [u for u in all_units if u.building_ids & mine and u.unit_key not in voted]
    times = []
    for i, unit in enumerate(todo[:rounds]):
        data = {"unit": unit.unit_key, "reason": "phone", "idempotency_key": f"b{i}", **{f"m{k}": str(v) for k, v in yes.items()}}
        t0 = time.perf_counter()
        timed(worker_client, ballot, {"unit": unit.unit_key})
        timed(worker_client, ballot, data, post=True)
        timed(worker_client, ballot, {**data, "confirmed": "1"}, post=True)
        times.append((time.perf_counter() - t0) * 1000)
    out["grid worker: one ballot (form, check, record)"] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="agora.settings", AGORA_VOTING_TIMERS="0", AGORA_STATIC_MANIFEST="0")
    clock_file = Path(tempfile.mkstemp(prefix="agora-bench-clock-")[1])
    clock_file.write_text("0")
    env["AGORA_TEST_CLOCK_FILE"] = str(clock_file)
    db = Path(tempfile.mkdtemp(prefix="agora-bench-door-")) / "db.sqlite3"
    env["AGORA_SQLITE_PATH"] = str(db)
    env.pop("DATABASE_URL", None)
    code = f"import json, bench.decisions_door as b; print('RESULT' + json.dumps(b._child({args.units}, {args.rounds})))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    clock_file.unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        sys.exit(proc.stderr[-4000:])
    result = json.loads(line.removeprefix("RESULT"))
    result["load"] = os.getloadavg()[0]
    print(f"Door to door, {result['units']} units, SQLite, load {result['load']:.1f}\n")
    print("| page | p50 ms | max ms | bytes |\n|---|---:|---:|---:|")
    for name, value in result.items():
        if isinstance(value, dict):
            print(f"| {name} | {value['p50_ms']} | {value['max_ms']} | {value.get('bytes', '')} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"decisions-door-{int(time.time())}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
