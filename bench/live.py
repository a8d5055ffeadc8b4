"""The live-session benchmark: one room, N real residents, Agora beside two baselines.

``python -m bench --clients 2000`` (``make bench BENCH_ARGS="--clients 2000"``):

1. prepares a bench database (PostgreSQL ``agora_bench`` when PostgreSQL runs on
   127.0.0.1:5432, else a SQLite file under /tmp): a fresh community, N residents, a
   moderator and a live session; a Django session is minted for each (no password logins);
2. starts its own redis-server on a free port (never the shared one), pinned to core 0;
3. for each target (Agora, a minimal Channels consumer, a bare ``websockets`` server) starts
   the server pinned to core 0 and runs ``bench.loadgen`` pinned to core 1: connect storm,
   latency of single messages, sustained rates; CPU time of server and Redis from /proc;
4. prints the figures side by side with ratios and writes JSON under bench/results/.

Everything listens on 127.0.0.1 only and every phase is bounded in time and count.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_BENCH_URL = "postgres://postgres@127.0.0.1:5432/agora_bench"
TARGETS = ("agora", "channels", "websockets")
LABELS = {"agora": "Agora", "channels": "Channels baseline", "websockets": "websockets baseline"}
# --agora-db: Agora's PostgreSQL connection handling, as the server's environment sets it
# (agora/settings.py). The first is the "agora" target; each other one runs Agora again in the
# same run as "agora-<name>", so they compare under the same machine load.
AGORA_DB_CONFIGS = {
    # The production default: a bounded pool, each lend checked (a poll of the socket of a
    # connection lent within the second, an empty query otherwise: agora/infra/postgresql).
    "pool": {"AGORA_DB_POOL": "1"},
    "pool-query-check": {"AGORA_DB_POOL": "1", "AGORA_DB_HEALTH_CHECKS": "query"},  # psycopg's check, every lend
    "pool-unchecked": {"AGORA_DB_POOL": "1", "AGORA_DB_HEALTH_CHECKS": "0"},
    "none": {"AGORA_DB_POOL": "0", "AGORA_DB_CONN_MAX_AGE": "0"},  # a new connection per call
    "persistent": {"AGORA_DB_POOL": "0", "AGORA_DB_CONN_MAX_AGE": "60"},  # before issue 14
}
AGORA_DB_LABELS = {
    "pool": "pool",
    "pool-query-check": "pool, query check",
    "pool-unchecked": "pool, unchecked",
    "none": "no persistence",
    "persistent": "CONN_MAX_AGE=60",
}


def label(target: str) -> str:
    if target.startswith("agora-"):
        config, _, repeat = target[6:].rpartition("-") if target[-1].isdigit() else (target[6:], "", "")
        return f"Agora ({AGORA_DB_LABELS.get(config, config)}{', again' if repeat else ''})"
    return LABELS[target]


def agora_runs(targets: list[str], db_configs: list[str]) -> list[tuple[str, str, dict[str, str]]]:
    """(result key, target, extra server environment) for each server run, in order."""
    runs: list[tuple[str, str, dict[str, str]]] = []
    for target in targets:
        if target != "agora":
            runs.append((target, target, {}))
            continue
        seen: dict[str, int] = {}
        for i, config in enumerate(db_configs):
            seen[config] = seen.get(config, 0) + 1  # a configuration named twice runs twice (drift)
            key = "agora" if i == 0 else f"agora-{config}" + (f"-{seen[config]}" if seen[config] > 1 else "")
            runs.append((key, "agora", AGORA_DB_CONFIGS[config]))
    return runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def pinned(core: int | None, argv: list[str]) -> list[str]:
    if core is None or shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return argv
    return ["taskset", "-c", str(core), *argv]


def wait_for_port(process: subprocess.Popen[bytes], port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early (code {process.returncode})")
        if reachable(port):
            return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# --- database --------------------------------------------------------------------------
def choose_database(database: str | None) -> dict[str, str]:
    """Environment that points Django (here and in the servers) at the bench database."""
    if database is None:
        database = PG_BENCH_URL if reachable(5432) else "sqlite:///tmp/agora-bench.sqlite3"
    if database.startswith("sqlite:"):
        return {"AGORA_SQLITE_PATH": database.split("://", 1)[1] if "://" in database else database[7:]}
    if database.startswith("postgres"):
        _ensure_pg_database(database)
        return {"DATABASE_URL": database}
    raise SystemExit(f"--database must be postgres://… or sqlite:///path, not {database!r}")


def _ensure_pg_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Room:
    session_id: int
    poster_cookies: list[str]  # the moderator first; the sustained phases post from each in turn
    cookies: list[str]
    moderator_id: int = 0


def posters_for(rates: list[float], single_rate: float = 1.0) -> int:
    """Poster accounts enough that none reaches the per-user live rate for ``message.post``
    (sessions/live/registry.py) at the fastest phase, posting in turn: one more than the rate
    needs. Posters are moderators, whom the service's own limit (5 in 10 s) leaves out."""
    from sessions.live.registry import rate_of

    fastest = max([single_rate, *rates])
    return math.ceil(fastest / rate_of("message.post").per_second) + 1


def open_motion(room: Room) -> dict[str, Any]:
    """A secret approve/reject motion, opened, for the vote burst."""
    from django.contrib.auth import get_user_model

    from sessions.models import TopicSession
    from voting import services as voting

    session = TopicSession.objects.get(pk=room.session_id)
    moderator = get_user_model().objects.get(pk=room.moderator_id)
    motion = voting.motion_create(session=session, by=moderator, text="压测表决:东门划线停车")
    voting.motion_open(motion=motion, by=moderator)
    return {"motion_id": motion.pk, "option_ids": list(motion.options.order_by("position").values_list("pk", flat=True))}


def ballots_stored(motion_id: int) -> dict[str, int]:
    """What the database holds for the motion: the check that nothing was lost or counted twice."""
    from django.db.models import Count

    from voting.models import Participation
    from voting.secrecy import online_ballots_stored

    duplicates = Participation.objects.filter(motion_id=motion_id).values("unit_key").annotate(n=Count("pk")).filter(n__gt=1).count()
    return {
        "participations": Participation.objects.filter(motion_id=motion_id).count(),
        "ballots": online_ballots_stored(motion_id),  # sealed until close (voting/secrecy.py)
        "voters_counted_twice": duplicates,
    }


def prepare_room(*, clients: int, english_every: int, posters: int = 1) -> Room:
    """A fresh community with ``clients`` residents and ``posters`` moderators in a live session,
    and their cookies."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from agora.roster.models import (
        Building,
        Community,
        Household,
        Membership,
        Resident,
        Role,
        Tenure,
    )
    from sessions.models import SessionState, TopicSession

    call_command("migrate", verbosity=0, interactive=False)
    run = datetime.now(UTC).strftime("%m%d%H%M%S")
    User = get_user_model()
    unusable = make_password(None)
    with transaction.atomic():
        community = Community.objects.create(slug=f"bench-{run}", name=f"压测社区 {run}")
        buildings = [Building.objects.create(community=community, name=f"{b}号楼") for b in range(1, 21)]
        moderator = User.objects.create(username=f"bench-{run}-mod", first_name="主持人", password=unusable)
        co_moderators = User.objects.bulk_create(
            [User(username=f"bench-{run}-mod{k}", first_name=f"主持人{k}", password=unusable) for k in range(1, posters)]
        )
        Membership.objects.bulk_create([Membership(user=m, community=community, role=Role.MODERATOR) for m in [moderator, *co_moderators]])
        users = User.objects.bulk_create(
            [User(username=f"bench-{run}-{i:05d}", first_name=f"居民{i}", password=unusable) for i in range(clients)]
        )
        households = Household.objects.bulk_create(
            [
                Household(
                    building=buildings[i % len(buildings)], unit="1", room=str(1000 + i), exclusive_area="80.00", owner_key=f"b{run}-{i}"
                )
                for i in range(clients)
            ]
        )
        Resident.objects.bulk_create(
            [
                Resident(user=u, household=h, community=community, tenure=Tenure.OWNER, verified=True)
                for u, h in zip(users, households, strict=True)
            ]
        )
        session = TopicSession.objects.create(
            community=community,
            created_by=moderator,
            title="压测:新增停车位如何分配",
            category="parking",
            starts_at=timezone.now(),
            state=SessionState.LIVE,
        )
    expires = timezone.now() + timedelta(days=1)
    store = SessionStore()
    backend = "django.contrib.auth.backends.ModelBackend"

    def mint(user: Any) -> tuple[str, Session]:
        key = get_random_string(32)
        data = store.encode({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend, HASH_SESSION_KEY: user.get_session_auth_hash()})
        return key, Session(session_key=key, session_data=data, expire_date=expires)

    minted = [mint(u) for u in [moderator, *co_moderators, *users]]
    Session.objects.bulk_create([row for _key, row in minted], batch_size=500)
    name = settings.SESSION_COOKIE_NAME
    cookies = []
    for i, (key, _row) in enumerate(minted[posters:]):
        lang = "; django_language=en" if english_every and i % english_every == english_every - 1 else ""
        cookies.append(f"{name}={key}{lang}")
    return Room(session.pk, [f"{name}={key}" for key, _row in minted[:posters]], cookies, moderator.pk)


def fresh_session(room: Room) -> Room:
    """Another live session of the same community, for a second Agora run: the first run's
    messages would otherwise be replayed to every client at connect."""
    from dataclasses import replace

    from django.utils import timezone

    from sessions.models import SessionState, TopicSession

    first = TopicSession.objects.get(pk=room.session_id)
    session = TopicSession.objects.create(
        community=first.community,
        created_by_id=room.moderator_id,
        title=first.title,
        category=first.category,
        starts_at=timezone.now(),
        state=SessionState.LIVE,
    )
    return replace(room, session_id=session.pk)


# --- servers -----------------------------------------------------------------------------
def start_redis(port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        pinned(0, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(process, port, "redis-server")
    return process


def start_target(target: str, *, port: int, env: dict[str, str], server: str, log: Path) -> subprocess.Popen[bytes]:
    python = sys.executable
    if target == "websockets":
        argv = [python, "-m", "bench.baselines.websockets_broadcast", str(port)]
    else:
        app = "agora.asgi:application" if target == "agora" else "bench.baselines.channels_broadcast:application"
        if target == "channels":
            env = {**env, "DJANGO_SETTINGS_MODULE": "bench.baselines.channels_broadcast"}
        if server == "uvicorn":
            argv = [
                python,
                "-m",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backlog",
                "4096",
                "--log-level",
                "warning",
                "--no-access-log",
                "--ws-ping-interval",
                "0",
                app,
            ]
        else:
            from agora.server import (
                DAPHNE_FLAGS,  # the production flags, for Agora and the baseline alike
            )

            argv = [python, "-m", "daphne", *DAPHNE_FLAGS, "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=4096", app]
    process = subprocess.Popen(pinned(0, argv), cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_for_port(process, port, f"{target} server")
    return process


def run_loadgen(spec: dict[str, Any], workdir: Path, timeout: float) -> dict[str, Any]:
    spec_path = workdir / f"spec-{spec['target']}.json"
    out_path = workdir / f"result-{spec['target']}.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run(
        pinned(1, [sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)]),
        cwd=ROOT,
        check=True,
        timeout=timeout,
    )
    return json.loads(out_path.read_text())


# --- the run -----------------------------------------------------------------------------
def run(options: Any) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = Path(options.out or RESULTS / stamp)
    workdir.mkdir(parents=True, exist_ok=True)
    db_env = choose_database(options.database)
    for name in ("DATABASE_URL", "AGORA_SQLITE_PATH"):
        os.environ.pop(name, None)
    os.environ.update(db_env)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    use_redis = options.layer == "redis"
    redis_process = None
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "AGORA_SQLITE_PATH", "REDIS_URL"}}
    env.update(db_env)
    env.update({"AGORA_SERVE_STATIC": "0", "AGORA_LOG_LEVEL": "ERROR", "PYTHONUNBUFFERED": "1"})
    env.update(dict(kv.split("=", 1) for kv in options.server_env))
    pids: dict[str, int] = {}
    if use_redis:
        redis_port = free_port()
        redis_process = start_redis(redis_port, workdir / "redis.log")
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        env["AGORA_REDIS_PREFIX"] = f"bench{stamp[-7:-1]}"
        env["AGORA_CHANNEL_LAYER"] = options.redis_layer
        env["BENCH_LAYER_BACKEND"] = (
            "channels_redis.pubsub.RedisPubSubChannelLayer" if options.redis_layer == "pubsub" else "channels_redis.core.RedisChannelLayer"
        )
        pids["redis"] = redis_process.pid
    import django

    django.setup()
    posters = posters_for(options.rates)
    room = prepare_room(clients=options.clients, english_every=options.english_every, posters=posters)
    phases = {
        "single_rate": 1.0,
        "single_count": options.single_count,
        "rates": options.rates,
        "sustained_seconds": options.seconds,
        "drain_seconds": options.drain,
    }
    meta = {
        "clients": options.clients,
        "layer": f"redis {options.redis_layer}" if use_redis else "memory",
        "database": "postgresql" if "DATABASE_URL" in db_env else "sqlite",
        "server": options.server,
        "cpus": os.cpu_count(),
        "started": stamp,
        "server_env": options.server_env,
        "agora_db": options.agora_db,
        "posters": posters,
        # The machine is shared: the 1-minute load average says how busy it was meanwhile.
        "load_average": [round(os.getloadavg()[0], 1)],
    }
    results: dict[str, Any] = {"meta": meta, "targets": {}}
    print(
        f"bench: {options.clients} clients, {meta['layer']} layer, {meta['database']}, {options.server}; results in {workdir}", flush=True
    )
    try:
        agora_ran = False
        for key, target, extra_env in agora_runs(options.targets, options.agora_db):
            if target == "agora":
                room = fresh_session(room) if agora_ran else room
                agora_ran = True
            port = free_port()
            process = start_target(target, port=port, env={**env, **extra_env}, server=options.server, log=workdir / f"{key}.log")
            try:
                spec = {
                    "target": key,
                    "ws_url": f"ws://127.0.0.1:{port}/ws/sessions/{room.session_id}/",
                    "origin": f"http://127.0.0.1:{port}",
                    "cookies": room.cookies,
                    "poster_cookies": room.poster_cookies,
                    "pids": {"server": process.pid, **pids},
                    "phases": phases,
                }
                motion = open_motion(room) if target == "agora" and options.vote_seconds > 0 else None
                if motion is not None:
                    spec["vote"] = {**motion, "seconds": options.vote_seconds, "duplicate_every": 10}
                bound = 120 + options.clients * 0.05 + len(options.rates) * (options.seconds + options.drain + 5)
                print(f"  {label(key)} …", flush=True)
                results["targets"][key] = run_loadgen(spec, workdir, timeout=bound)
                if motion is not None:
                    results["targets"][key]["vote"]["stored"] = ballots_stored(motion["motion_id"])
                results["targets"][key]["load_average"] = round(os.getloadavg()[0], 1)
            finally:
                stop(process)
    finally:
        if redis_process is not None:
            stop(redis_process)
    meta["load_average"].append(round(os.getloadavg()[0], 1))
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    return results


# --- the report ----------------------------------------------------------------------------
def _fmt(value: float | int | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not unit:
        return f"{value:,}"
    return f"{value:,.{digits}f}{unit}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def _cpu_per_frame(phases: list[dict[str, Any]], with_redis: bool) -> float | None:
    delivered = sum(p["delivered"] for p in phases)
    cpu = sum(p["server_cpu_s"].get("server", 0.0) + (p["server_cpu_s"].get("redis", 0.0) if with_redis else 0.0) for p in phases)
    return 1e6 * cpu / delivered if delivered else None


def rows_for(result: dict[str, Any]) -> list[tuple[str, float | int | None, str]]:
    """(label, value, unit) for one target, in report order; lower is better except where noted."""
    connect = result["connect"]
    rows: list[tuple[str, float | int | None, str]] = [
        ("connected", connect["connected"], ""),
        ("connect errors", connect["errors"], ""),
        ("connect storm, s", connect["seconds"], "s"),
        ("server memory per connection, KiB", connect["memory_per_connection_bytes"].get("server", 0) / 1024, ""),
        ("server CPU for the storm, s", connect["server_cpu_s"].get("server"), "s"),
    ]
    single = result["single"]
    for q in ("p50", "p95", "p99", "max"):
        rows.append((f"one message to all: {q}, ms", single["latency_ms"][q], ""))
    rows.append(("one message to all: delivered %", single["delivery_pct"], ""))
    rows.append(("connections lost while broadcasting", sum(p.get("connections_lost", 0) for p in [single, *result["sustained"]]), ""))
    for phase in result["sustained"]:
        r = phase["rate"]
        rows.append((f"{r:g} msg/s: delivered %", phase["delivery_pct"], ""))
        rows.append((f"{r:g} msg/s: duplicates", phase["duplicates"], ""))
        rows.append((f"{r:g} msg/s: posts refused", len(phase.get("refused", [])), ""))
        rows.append((f"{r:g} msg/s: p50, ms", phase["latency_ms"]["p50"], ""))
        rows.append((f"{r:g} msg/s: p99, ms", phase["latency_ms"]["p99"], ""))
        rows.append((f"{r:g} msg/s: max, ms", phase["latency_ms"]["max"], ""))
        rows.append((f"{r:g} msg/s: server CPU µs/frame", _cpu_per_frame([phase], with_redis=False), ""))
    all_phases = [single, *result["sustained"]]
    rows.append(("all phases: server CPU µs/frame", _cpu_per_frame(all_phases, with_redis=False), ""))
    rows.append(("all phases: server+Redis CPU µs/frame", _cpu_per_frame(all_phases, with_redis=True), ""))
    return rows


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    targets = list(results["targets"])
    table = {t: rows_for(results["targets"][t]) for t in targets}
    header = ["", *(label(t) for t in targets)]
    first = targets[0]
    header += [f"{label(first)} / {label(t).split(' baseline')[0]}" for t in targets[1:]]
    lines = [
        f"Live session benchmark — {meta['clients']} clients, {meta['layer']} channel layer, {meta['database']}, "
        f"{meta['server']}, {meta['cpus']} CPUs, {meta['started']}; load average {meta['load_average'][0]} → {meta['load_average'][-1]}; "
        f"{meta.get('posters', 1)} posters",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for i, (row_label, _v, _u) in enumerate(table[first]):
        values = [table[t][i][1] for t in targets]
        cells = [row_label, *(_fmt(v, table[t][i][2]) for t, v in zip(targets, values, strict=True))]
        cells += [_ratio(table[first][i][1], table[t][i][1]) for t in targets[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("| load average after the run | " + " | ".join(_fmt(results["targets"][t].get("load_average")) for t in targets) + " |")
    voted = [t for t in targets if results["targets"][t].get("vote")]
    if voted:
        votes = [results["targets"][t]["vote"] for t in voted]

        def row(name: str, cell: Any) -> str:
            return f"| {name} | " + " | ".join(cell(v) for v in votes) + " |"

        lines += [
            "",
            "Vote burst (Agora only: the baselines have no votes)",
            "| | " + " | ".join(label(t) for t in voted) + " |",
            "|---|" + "---|" * len(voted),
            row("voters / ballots sent (duplicate submissions)", lambda v: f"{v['voters']} / {v['ballots_sent']} ({v['duplicates_sent']})"),
            row("receipts (of which replayed for a duplicate)", lambda v: f"{v['receipts']} ({v['replayed_receipts']})"),
            row("errors", lambda v: f"{v['errors']} {v['error_samples'][:2] if v['errors'] else ''}"),
            row(
                "in the database: participations / ballots / voters counted twice",
                lambda v: (
                    f"{v.get('stored', {}).get('participations')} / {v.get('stored', {}).get('ballots')} / "
                    f"{v.get('stored', {}).get('voters_counted_twice')}"
                ),
            ),
            row("burst length (first send to last receipt), s", lambda v: _fmt(v["burst_seconds"], "s")),
            row(
                "receipt latency p50 / p99 / max, ms",
                lambda v: f"{_fmt(v['ack_latency_ms']['p50'])} / {_fmt(v['ack_latency_ms']['p99'])} / {_fmt(v['ack_latency_ms']['max'])}",
            ),
            row("clients that saw the final tally", lambda v: f"{v['clients_saw_final_tally']} of {v['watchers']}"),
            row("final tally at every client after the last receipt, ms", lambda v: _fmt(v["final_tally_after_last_ballot_ms"])),
            row("server CPU for the burst, s", lambda v: _fmt(v["server_cpu_s"].get("server"), "s")),
        ]
    return "\n".join(lines)
