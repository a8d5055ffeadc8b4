"""The progress page of one owners' decision while 2,000 owners vote online within 10 minutes.

``python -m bench.decisions_progress`` (``--owners 2000 --minutes 10 --port 28100``):

1. a child process builds a fresh SQLite database under /tmp/agora/ with a community of
   ``--owners`` households in buildings of 100, each with one verified owner, a moderator and a
   decision with an Art. 278 major matter and an approve/reject matter; it is announced and moved
   into its period on a test clock (``AGORA_TEST_CLOCK_FILE``, shared with the server);
2. a real server (``python -m agora.server``, daphne, on 127.0.0.1:``--port``) serves the page;
3. baseline: the moderator's progress page is fetched repeatedly with no voting (``--baseline-seconds``);
4. then a voter process records every owner's online ballot through ``vote_record`` (the one path
   every channel ends in) at an even rate, ``--owners`` in ``--minutes``, while the page is
   fetched again the same way; every ballot's commit sends ``vote_recorded`` in the voter
   process, whose announcer reads ``progress_of`` and broadcasts (coalesced), as a server does;
5. prints p50 / p95 / max of the page in both phases, the ballots recorded and the load average.

Only 127.0.0.1; every loop is bounded by its phase's duration.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = Path("/tmp/agora/bench-decisions-progress.sqlite3")


def _env(clock_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="agora.settings",
        AGORA_SQLITE_PATH=str(DB),
        AGORA_TEST_CLOCK_FILE=str(clock_file),
        AGORA_VOTING_TIMERS="0",
        # The page links plain static names (no collectstatic for a bench run); the page itself is what is measured.
        AGORA_STATIC_MANIFEST="0",
    )
    return env


def setup_child(owners: int) -> dict[str, Any]:
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from agora.infra import clock
    from agora.roster.models import Building, Community, Household, Membership, Resident, Role, Tenure
    from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create, decision_open_due
    from voting.models import MotionKind
    from voting.services import MotionSettings

    community = Community.objects.create(slug="bench", name="基准社区")
    moderator = User.objects.create(username="bench-mod")
    moderator.set_unusable_password()
    moderator.save()
    Membership.objects.create(user=moderator, community=community, role=Role.MODERATOR)
    buildings = Building.objects.bulk_create(Building(community=community, name=f"{b + 1}号楼") for b in range((owners + 99) // 100))
    households = Household.objects.bulk_create(
        Household(
            building=buildings[i // 100],
            unit="1",
            room=f"{(i % 100) // 4 + 1:02d}{i % 4 + 1:02d}",
            exclusive_area=Decimal("60.00") + i % 60,
            owner_key=f"O{i}",
        )
        for i in range(owners)
    )
    users = User.objects.bulk_create(User(username=f"owner{i}", first_name=f"业主{i}") for i in range(owners))
    Resident.objects.bulk_create(
        Resident(user=u, household=h, community=community, tenure=Tenure.OWNER, verified=True)
        for u, h in zip(users, households, strict=True)
    )
    now = clock.now()
    decision = decision_create(
        community=community,
        by=moderator,
        title="基准表决：增设停车位",
        opens_at=now + timedelta(days=16),
        closes_at=now + timedelta(days=26),
        matters=[
            MatterSpec(text="在小区东侧空地增设停车位", settings=MotionSettings(kind=MotionKind.ART278, major_matter=True)),
            MatterSpec(text="停车位按摇号分配", settings=MotionSettings()),
        ],
    )
    decision_announce(decision=decision, by=moderator)
    clock.advance(16 * 86400 + 60)
    assert decision_open_due(decision_id=decision.pk)
    session = SessionStore()
    session[SESSION_KEY] = str(moderator.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = moderator.get_session_auth_hash()
    session.create()
    return {"decision_id": decision.pk, "cookie": f"sessionid={session.session_key}; django_language=zh-hans"}


def voter_child(decision_id: int, owners: int, seconds: float) -> dict[str, Any]:
    """Every owner's online ballot, evenly spread over ``seconds``."""
    import django

    django.setup()
    from django.contrib.auth.models import User

    from voting.decisions.ballots import vote_record
    from voting.models import Channel, Decision, Motion, MotionOption
    from voting.units import decision_units

    decision = Decision.objects.get(pk=decision_id)
    yes = {m.pk: [MotionOption.objects.get(motion=m, code="yes").pk] for m in Motion.objects.filter(decision=decision)}
    no = {m.pk: [MotionOption.objects.get(motion=m, code="no").pk] for m in Motion.objects.filter(decision=decision)}
    voters = {u.username: u for u in User.objects.filter(username__startswith="owner")}
    units = decision_units(decision)
    times: list[float] = []
    start = time.monotonic()
    for i, unit in enumerate(units[:owners]):
        due = start + seconds * i / owners
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if time.monotonic() - start > seconds + 60:
            break
        voter = voters[f"owner{unit.unit_key.removeprefix('o:O')}"]
        t = time.perf_counter()
        vote_record(decision=decision, unit=unit, choices=yes if i % 4 else no, channel=Channel.ONLINE, voter=voter)
        times.append(time.perf_counter() - t)
    times.sort()
    return {
        "ballots": len(times),
        "seconds": round(time.monotonic() - start, 1),
        "ballot_p50_ms": round(statistics.median(times) * 1000, 1),
        "ballot_p95_ms": round(times[int(len(times) * 0.95)] * 1000, 1),
    }


def _child(code: str, env: dict[str, str], timeout: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    raise RuntimeError(f"bench child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


def fetch_for(port: int, path: str, cookie: str, seconds: float, pause: float, fetchers: int) -> list[float]:
    """GET ``path`` again and again from ``fetchers`` threads for ``seconds``: each latency in seconds."""
    times: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            t = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - t
            if response.status != 200 or b"progress-body" not in body:
                raise RuntimeError(f"progress page answered {response.status}")
            with lock:
                times.append(elapsed)
            time.sleep(pause)
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(fetchers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": round(ordered[int(len(ordered) * 0.95)] * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--owners", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--baseline-seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=28100)
    parser.add_argument("--fetchers", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.25, help="seconds between one fetcher's requests")
    args = parser.parse_args(argv)
    DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    clock_file = DB.with_suffix(".clock")
    clock_file.write_text("0")
    env = _env(clock_file)
    setup = _child(f"import json, bench.decisions_progress as b; print('RESULT ' + json.dumps(b.setup_child({args.owners})))", env, 600)
    path = f"/decisions/{setup['decision_id']}/progress/"
    log = open(DB.with_suffix(".server.log"), "wb")  # noqa: SIM115 (held open for the server's life)
    server = subprocess.Popen(
        [sys.executable, "-m", "agora.server", "-b", "127.0.0.1", "-p", str(args.port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=2).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        fetch_for(args.port, path, setup["cookie"], 5, args.pause, 1)  # warm up
        load_before = os.getloadavg()
        baseline = stats(fetch_for(args.port, path, setup["cookie"], args.baseline_seconds, args.pause, args.fetchers))
        seconds = args.minutes * 60
        voter_code = (
            "import json, bench.decisions_progress as b; "
            f"print('RESULT ' + json.dumps(b.voter_child({setup['decision_id']}, {args.owners}, {seconds})))"
        )
        voter = subprocess.Popen(
            [sys.executable, "-c", voter_code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(3)  # the voter's Django start
        during = stats(fetch_for(args.port, path, setup["cookie"], seconds, args.pause, args.fetchers))
        load_during = os.getloadavg()
        out, err = voter.communicate(timeout=seconds + 300)
        voted = next((json.loads(line.removeprefix("RESULT ")) for line in out.splitlines() if line.startswith("RESULT ")), None)
        if voted is None:
            raise RuntimeError(err[-3000:])
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    print(f"load average {load_before[0]:.2f} before voting, {load_during[0]:.2f} {load_during[1]:.2f} at the end; {os.cpu_count()} cores")
    print(
        f"{args.owners} owners, {voted['ballots']} online ballots in {voted['seconds']} s (vote_record p50 {voted['ballot_p50_ms']} ms, p95 {voted['ballot_p95_ms']} ms)"
    )
    print("| phase | page fetches | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| baseline, no voting | {baseline['n']} | {baseline['p50']} | {baseline['p95']} | {baseline['max']} |")
    print(f"| while voting | {during['n']} | {during['p50']} | {during['p95']} | {during['max']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
