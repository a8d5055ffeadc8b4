"""With the channel layer unreachable (a private redis-server, killed; the shared one is never
touched), a person removed from the session, taken out of its audience, or whose password was
reset elsewhere stops getting the room's frames and has their socket closed within seconds, by
real daphne processes (sessions/live/fanout.py, ``SessionFanout.recheck``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from agora.roster.models import Resident as ResidentRow
from sessions.meeting import moderation
from tests.factories import World, resident_make
from tests.scale.residents import Resident, until
from tests.servers import daphne_servers, needs_redis_server, private_redis, server_env
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), needs_redis_server]


def test_removed_untagged_and_reset_people_are_closed_while_redis_is_down(tx_world: World, tmp_path: Path) -> None:
    removed_user, untagged_user, reset_user, stayer_user = (resident_make(tx_world.community, tags=[tx_world.car_owner]) for _ in range(4))
    removed, untagged, reset, stayer = (
        Resident(name, session_cookie(user), tx_world.session.pk)
        for name, user in (("removed", removed_user), ("untagged", untagged_user), ("reset", reset_user), ("stayer", stayer_user))
    )
    gone = [removed, untagged, reset]

    def change_all() -> None:
        moderation.participant_remove(session=tx_world.session, by=tx_world.moderator, user_id=removed_user.pk, reason="扰乱秩序")
        ResidentRow.objects.get(user=untagged_user, community=tx_world.community).tags.clear()
        reset_user.set_password("reset-by-the-desk-77")
        reset_user.save()

    async def scenario() -> None:
        for person in [*gone, stayer]:
            await person.connect(server)
        redis.kill()
        await asyncio.sleep(0.5)
        started = time.monotonic()
        await database_sync_to_async(change_all)()
        for person in gone:
            await person.closed(timeout=8)
        took = time.monotonic() - started
        assert took < 5, f"closed after {took:.1f}s"
        for person in gone:
            assert person.ws is not None and person.ws.close_code == 4403, (person.name, person.ws.close_code if person.ws else None)
            assert person.frames[-1]["type"] == "closed", person.name
        # The room goes on: a message stored now reaches the one who stays (from the database,
        # the channel layer being down), and none of the others.
        ack = await stayer.post("大家继续", "after")
        assert ack["type"] == "message.ack"
        await until(lambda: ack["seq"] in stayer.seqs, timeout=15, what="the stayer gets the next message")
        for person in gone:
            assert ack["seq"] not in person.seqs, person.name
        await stayer.close()

    with (
        private_redis() as redis,
        daphne_servers(1, log_dir=tmp_path, env=server_env(redis_url=redis.url, prefix="admission-test")) as (server,),
    ):
        asyncio.run(asyncio.wait_for(scenario(), 90))
