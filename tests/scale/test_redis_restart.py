"""Redis restarts during a live session (a private redis-server: the shared one is never touched).

Every message submitted meanwhile is either stored (acknowledged) or refused with a clear
error; nothing acknowledged is lost; live updates resume and every resident resyncs to
every stored message exactly once, in order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sessions.models import Message
from tests.factories import World, resident_make
from tests.scale.residents import Resident, until
from tests.servers import daphne_servers, needs_redis_server, private_redis, server_env
from tests.sessions.live_helpers import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), needs_redis_server]


def test_redis_restart_loses_nothing_acknowledged_and_residents_resync(tx_world: World, tmp_path: Path) -> None:
    users = [resident_make(tx_world.community, tags=[tx_world.car_owner]) for _ in range(8)]
    people = [Resident(f"r{i}", session_cookie(user), tx_world.session.pk) for i, user in enumerate(users)]
    moderator = Resident("mod", session_cookie(tx_world.moderator), tx_world.session.pk)
    outcomes: dict[str, dict] = {}

    async def submit(person: Resident, text: str) -> None:
        try:
            outcomes[text] = await person.post(text, text)
        except (ConnectionError, TimeoutError):
            outcomes[text] = {"type": "lost-connection"}

    async def scenario() -> None:
        await moderator.connect(servers[0])
        for i, person in enumerate(people):
            await person.connect(servers[i % 2])
        await submit(moderator, "before")
        await until(lambda: all(p.seqs == [1] for p in people), timeout=15, what="the first message everywhere")

        redis.kill()
        for k in range(3):
            await submit(moderator, f"during-{k}")
        await submit(people[1], "during-resident")

        redis.start()  # same port: the processes reconnect on their own
        await asyncio.sleep(1.0)
        for k in range(2):
            await submit(moderator, f"after-{k}")
        stored = await _stored(tx_world.session.pk)
        texts = {text for _seq, text in stored}
        await until(
            lambda: all(p.seqs[-1:] == [stored[-1][0]] for p in [moderator, *people]),
            timeout=30,
            what="every resident resynced to the last stored message",
        )
        await asyncio.sleep(0.5)
        for person in [moderator, *people]:
            await person.close()

        for text, answer in outcomes.items():
            if answer["type"] == "message.ack":
                assert text in texts, f"{text!r} was acknowledged but is not stored"
            elif answer["type"] == "error":
                assert answer["message"] and answer["code"], answer  # a sentence for the user
                assert text not in texts, f"{text!r} was refused but stored"
            else:
                pytest.fail(f"{text!r} got neither an acknowledgement nor an error: {answer}")
        assert outcomes["during-0"]["type"] == "message.ack", "Redis down must not stop the room storing messages"
        seqs = [seq for seq, _text in stored]
        assert seqs == list(range(1, len(seqs) + 1))
        for person in [moderator, *people]:
            assert person.seqs == seqs, f"{person.name} got {person.seqs}, stored {seqs}"

    with (
        private_redis() as redis,
        daphne_servers(2, log_dir=tmp_path, env=server_env(redis_url=redis.url, prefix="restart-test")) as servers,
    ):
        asyncio.run(asyncio.wait_for(scenario(), 120))


async def _stored(session_id: int) -> list[tuple[int, str]]:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(
        lambda: list(Message.objects.filter(session_id=session_id).order_by("seq").values_list("seq", "text_html"))
    )()
