"""Several daphne processes on Redis + PostgreSQL; one is killed (-9) while the room talks.

Its residents reconnect to the others and catch up: every stored message reaches every
resident exactly once, in order, and every acknowledged message is stored.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from sessions.models import Message
from tests.factories import World, resident_make
from tests.scale.residents import Resident, until
from tests.servers import DaphneServer, wait_ready_all
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.postgres]

RESIDENTS = 30
POSTERS = 6
POSTS_EACH = 5  # the rate limit is 5 per 10 s


def test_killed_process_residents_reconnect_elsewhere_with_no_gaps_or_duplicates(tx_world: World, tmp_path: Path) -> None:
    servers = [DaphneServer.spawn(log_dir=tmp_path) for _ in range(3)]  # the three start at once
    wait_ready_all(servers, 30)
    users = [resident_make(tx_world.community, tags=[tx_world.car_owner], building=f"{i % 5 + 1}号楼") for i in range(RESIDENTS)]
    people = [Resident(f"r{i}", session_cookie(user), tx_world.session.pk) for i, user in enumerate(users)]
    acked: list[int] = []
    refused: list[dict] = []

    async def poster(person: Resident, n: int) -> None:
        for k in range(POSTS_EACH):
            try:
                answer = await person.post(f"居民{n}的第{k}条", f"{n}-{k}")
            except (ConnectionError, TimeoutError, OSError):
                continue  # its process died before answering: neither acknowledged nor promised
            except Exception as exc:  # websockets.ConnectionClosed while sending
                if "ConnectionClosed" not in type(exc).__name__:
                    raise
                continue
            if answer["type"] == "message.ack":
                acked.append(answer["seq"])
            else:
                refused.append(answer)
            await asyncio.sleep(0.05)

    async def follow(person: Resident) -> None:
        """Reconnect to a live process whenever the connection drops (as live.js does)."""
        while True:
            await person.closed(timeout=3600)
            alive = [s for s in servers if s.process.poll() is None]
            await person.connect(alive[people.index(person) % len(alive)])

    async def scenario() -> None:
        for i, person in enumerate(people):
            await person.connect(servers[i % 3])
        followers = [asyncio.ensure_future(follow(p)) for p in people]
        posting = [asyncio.ensure_future(poster(people[i], i)) for i in range(POSTERS)]
        await asyncio.sleep(0.6)
        servers[0].stop(sig=signal.SIGKILL)
        await asyncio.gather(*posting)
        stored = await _stored_seqs(tx_world.session.pk)
        await until(lambda: all(p.seqs[-1:] == stored[-1:] for p in people), timeout=30, what="every resident has the last message")
        await asyncio.sleep(0.5)  # a duplicate would arrive now
        for task in followers:
            task.cancel()
        for person in people:
            await person.close()
        assert set(acked) <= set(stored), "an acknowledged message is missing from the database"
        assert stored == list(range(1, len(stored) + 1))
        assert len(acked) >= POSTERS * POSTS_EACH // 2, "the surviving processes kept taking messages"
        for person in people:
            assert person.seqs == stored, f"{person.name} got {person.seqs}, stored {stored}"
        assert not refused, refused

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        for server in servers:
            server.stop()


async def _stored_seqs(session_id: int) -> list[int]:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(
        lambda: list(Message.objects.filter(session_id=session_id).order_by("seq").values_list("seq", flat=True))
    )()
