"""SIGTERM to a daphne process in the middle of a vote burst (Redis + PostgreSQL, two processes).

Every acknowledged ballot (a receipt was sent) is in the database; no partial rows ("who
voted" and "what was voted" are written together or not at all); residents of the stopped
process reconnect to the other, cast again with the same idempotency key and are counted once.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from tests.factories import World, resident_make
from tests.scale.residents import Resident, until
from tests.servers import daphne_servers
from tests.sessions.live_helpers import session_cookie
from voting import services as voting
from voting.models import Participation
from voting.secrecy import online_ballots_stored

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.postgres]

VOTERS = 40


def test_sigterm_mid_burst_keeps_every_acknowledged_ballot_and_counts_each_voter_once(tx_world: World, tmp_path: Path) -> None:
    motion = voting.motion_create(session=tx_world.session, by=tx_world.moderator, text="东门划线停车")
    voting.motion_open(motion=motion, by=tx_world.moderator)
    yes = motion.options.order_by("position").first()
    assert yes is not None
    users = [resident_make(tx_world.community, tags=[tx_world.car_owner]) for _ in range(VOTERS)]
    people = [Resident(f"v{i}", session_cookie(user), tx_world.session.pk) for i, user in enumerate(users)]
    receipts: dict[str, dict] = {}

    def key(person: Resident) -> str:
        return f"burst-key-{person.name}-0000000"

    async def cast(person: Resident) -> None:
        try:
            answer = await person.request(
                {"type": "ballot.cast", "motion_id": motion.pk, "choice": yes.pk, "idempotency_key": key(person), "client_id": person.name},
                timeout=20,
            )
        except (ConnectionError, TimeoutError, OSError):
            return  # no answer: not acknowledged, may or may not be stored
        except Exception as exc:
            if "ConnectionClosed" not in type(exc).__name__:
                raise
            return
        if answer["type"] == "ballot.receipt":
            receipts[person.name] = answer
        else:
            pytest.fail(f"{person.name}: {answer}")

    async def scenario() -> None:
        for i, person in enumerate(people):
            await person.connect(servers[0] if i % 4 else servers[1])
        burst = []
        for i, person in enumerate(people):
            burst.append(asyncio.ensure_future(cast(person)))
            await asyncio.sleep(0.02)
            if i == VOTERS // 2:
                servers[0].stop(sig=signal.SIGTERM)  # graceful stop, mid burst
        await asyncio.gather(*burst)
        acknowledged = set(receipts)
        stored = await database_sync_to_async(_stored)(motion.pk)
        assert stored["participations"] == stored["ballots"], f"partial rows: {stored}"
        voted = {p.name for p, user in zip(people, users, strict=True) if user.pk in stored["voter_ids"]}
        assert acknowledged <= voted, f"acknowledged but not stored: {acknowledged - voted}"

        # Everyone whose process went away comes back on the other and votes again, same key.
        for person in people:
            if person.server is servers[0]:
                await person.closed(timeout=15)
                await person.connect(servers[1])
                await cast(person)
        await until(lambda: len(receipts) == VOTERS, timeout=30, what="a receipt for every voter")
        stored = await database_sync_to_async(_stored)(motion.pk)
        assert stored["participations"] == stored["ballots"] == VOTERS, stored
        assert len(stored["voter_ids"]) == VOTERS
        for person in people:
            await person.close()

    with daphne_servers(2, log_dir=tmp_path) as servers:
        asyncio.run(asyncio.wait_for(scenario(), 150))


def _stored(motion_id: int) -> dict:
    participations = list(Participation.objects.filter(motion_id=motion_id).values_list("voter_id", flat=True))
    return {
        "participations": len(participations),
        "ballots": online_ballots_stored(motion_id),  # sealed until close (voting/secrecy.py)
        "voter_ids": set(participations),
    }
