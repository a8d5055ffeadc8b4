"""Three daphne processes on PostgreSQL under a burst of page loads and ballots hold at most their
pools' ceiling of database connections, every page and ballot is answered, and the count falls
back when they go idle (docs/deployment.md, "Database connections").

The processes run with the production default (no AGORA_DB_CONN_MAX_AGE from the test
environment), with a small ceiling so the burst reaches it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import websockets
from django.db import connection

from tests.factories import World, resident_make
from tests.scale.residents import Resident
from tests.servers import DaphneServer, daphne_servers, server_env
from tests.sessions.live_helpers import session_cookie
from voting import services as voting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.postgres]

PROCESSES = 3
CEILING = 3  # AGORA_DB_POOL_MAX_SIZE of each process
KEPT = 1  # AGORA_DB_POOL_MIN_SIZE
PAGE_LOOPS_PER_PROCESS = 4
PAGES_PER_LOOP = 6
VOTERS = 30


class ConnectionCounter:
    """Samples pg_stat_activity every 20 ms: connections of these processes to the test database."""

    def __init__(self, application_name: str) -> None:
        db = connection.settings_dict
        self.conninfo = (
            f"host={db.get('HOST') or '127.0.0.1'} port={db.get('PORT') or 5432} user={db.get('USER') or 'postgres'} dbname=postgres"
        )
        self.params = (db["NAME"], application_name)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            return self._count(conn)

    def _count(self, conn: psycopg.Connection) -> int:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s", self.params).fetchone()
        return int(row[0]) if row else 0

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                self.samples.append(self._count(conn))
                time.sleep(0.02)

    def __enter__(self) -> ConnectionCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def page_loads(server: DaphneServer, cookie: str, session_id: int) -> list[int]:
    statuses = []
    for _ in range(PAGES_PER_LOOP):
        request = urllib.request.Request(f"{server.url}/sessions/{session_id}/", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (127.0.0.1 only)
            response.read()
            statuses.append(response.status)
    return statuses


def test_three_processes_never_hold_more_than_their_ceiling_and_give_connections_back(
    tx_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGORA_DB_CONN_MAX_AGE", raising=False)  # what production runs
    name = f"agora-pool-test-{uuid.uuid4().hex[:8]}"
    env = server_env(
        extra={
            "AGORA_DB_APPLICATION_NAME": name,
            "AGORA_DB_POOL_MAX_SIZE": str(CEILING),
            "AGORA_DB_POOL_MIN_SIZE": str(KEPT),
            "AGORA_DB_POOL_MAX_IDLE": "1",
        }
    )
    motion = voting.motion_create(session=tx_world.session, by=tx_world.moderator, text="东门划线停车")
    voting.motion_open(motion=motion, by=tx_world.moderator)
    yes = motion.options.order_by("position").first()
    assert yes is not None
    users = [resident_make(tx_world.community, tags=[tx_world.car_owner]) for _ in range(VOTERS)]
    people = [Resident(f"v{i}", session_cookie(user), tx_world.session.pk) for i, user in enumerate(users)]
    counter = ConnectionCounter(name)
    receipts: list[dict] = []

    async def cast(person: Resident, n: int) -> None:
        for attempt in range(3):  # as live.js does: a handshake lost on a loaded machine is retried
            try:
                await person.connect(servers[n % PROCESSES])
                break
            except (OSError, EOFError, websockets.InvalidHandshake, websockets.InvalidMessage):
                if attempt == 2:
                    raise
                await asyncio.sleep(0.5)
        receipts.append(
            await person.request(
                {
                    "type": "ballot.cast",
                    "motion_id": motion.pk,
                    "choice": yes.pk,
                    "idempotency_key": f"pool-key-{n:024d}",
                    "client_id": person.name,
                },
                timeout=30,
            )
        )

    async def ballots() -> None:
        await asyncio.gather(*(cast(person, n) for n, person in enumerate(people)))
        for person in people:
            await person.close()

    with daphne_servers(PROCESSES, log_dir=tmp_path, env=env) as servers:
        with counter, ThreadPoolExecutor(max_workers=PROCESSES * PAGE_LOOPS_PER_PROCESS) as pool:
            loads = [
                pool.submit(page_loads, server, people[i].cookie, tx_world.session.pk)
                for server in servers
                for i in range(PAGE_LOOPS_PER_PROCESS)
            ]
            asyncio.run(asyncio.wait_for(ballots(), 60))
            statuses = [status for load in loads for status in load.result(timeout=60)]
        assert statuses == [200] * (PROCESSES * PAGE_LOOPS_PER_PROCESS * PAGES_PER_LOOP)
        assert [r["type"] for r in receipts] == ["ballot.receipt"] * VOTERS, receipts
        busiest = max(counter.samples)
        assert busiest <= PROCESSES * CEILING, f"{busiest} connections open at once, ceiling {PROCESSES * CEILING}"
        assert busiest > PROCESSES * KEPT, "the burst never needed more than the kept connections: it proves nothing"

        # Idle: each pool closes one unused connection per max_idle second, down to min_size.
        deadline = time.monotonic() + 20
        while (idle := counter.now()) > PROCESSES * KEPT and time.monotonic() < deadline:
            time.sleep(0.2)
        assert idle <= PROCESSES * KEPT, f"still {idle} connections open after the burst (kept: {PROCESSES * KEPT})"
