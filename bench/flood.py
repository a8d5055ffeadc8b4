"""The flood benchmark: how long residents wait for their post's acknowledgement while one
account floods the room from every socket it may open.

``python -m bench.flood`` (embedded configuration: a fresh SQLite file under /tmp, the in-memory
channel layer, the real ASGI application and consumers, in one process):

1. five residents post in turn, one post every 0.5 s in all (each under the 5-in-10-s limit);
2. meanwhile one other account opens 10 sockets and sends ``reaction.set`` and ``ping`` as fast
   as the event loop lets it (``--flood-rate`` frames per second per socket);
3. prints the residents' acknowledgement p50 / p95 / max in milliseconds, with and without the
   flood, and how the flooder was answered. A benchmark, not a test: numbers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

DB = Path("/tmp/agora-bench-flood.sqlite3")


def setup() -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["AGORA_SQLITE_PATH"] = str(DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    os.environ.setdefault("AGORA_PASSWORD_HASHERS", "md5")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


async def scenario(*, flood: bool, posts: int, flood_rate: float) -> dict[str, Any]:
    from channels.db import database_sync_to_async

    from tests.factories import make_world, resident_make
    from tests.sessions.live_helpers import connect, receive_until

    world = await database_sync_to_async(make_world)()
    posters = [world.resident2] + [await database_sync_to_async(resident_make)(world.community, tags=[world.car_owner]) for _i in range(4)]
    residents = [(await connect(user, world.session.pk))[0] for user in posters]
    answers: dict[str, int] = {}
    stop = asyncio.Event()
    flooders = []
    if flood:
        flooders = [(await connect(world.resident, world.session.pk, hello=None))[0] for _i in range(10)]

    async def flood_from(comm: Any) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            frame = {"type": "reaction.set", "message_id": 1, "kind": "agree" if i % 2 else None} if i % 3 else {"type": "ping"}
            await comm.send_json_to(frame)
            await asyncio.sleep(1 / flood_rate)

    async def read_from(comm: Any) -> None:
        while not stop.is_set():
            if await comm.receive_nothing(timeout=0.2):  # a receive timeout would cancel the application
                continue
            frame = await comm.receive_json_from(timeout=5)
            key = frame.get("code") or frame["type"]
            answers[key] = answers.get(key, 0) + 1

    # The first message, for the flood's reactions to point at.
    await residents[0].send_json_to({"type": "message.post", "text": "第一条", "client_id": "first"})
    await receive_until(residents[0], "message.ack")
    tasks = [asyncio.ensure_future(f(c)) for c in flooders for f in (flood_from, read_from)]
    await asyncio.sleep(1.0 if flood else 0)
    acks: list[float] = []
    for n in range(posts):
        comm = residents[n % len(residents)]
        started = time.perf_counter()
        await comm.send_json_to({"type": "message.post", "text": f"第{n}条意见", "client_id": f"p{n}"})
        frames = await receive_until(comm, "message.ack", timeout=60)
        acks.append((time.perf_counter() - started) * 1000)
        assert frames[-1]["type"] == "message.ack"
        await asyncio.sleep(max(0.0, 0.5 - acks[-1] / 1000))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for comm in [*residents, *flooders]:
        try:
            await comm.disconnect()
        except BaseException:  # a flooder the server already closed
            pass
    acks.sort()
    return {
        "flood": flood,
        "p50_ms": statistics.median(acks),
        "p95_ms": acks[int(0.95 * (len(acks) - 1))],
        "max_ms": acks[-1],
        "flooder_answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--flood-rate", type=float, default=200.0, help="frames per second per flooding socket")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    setup()
    results = []
    for flood in (False, True):
        results.append(asyncio.run(scenario(flood=flood, posts=args.posts, flood_rate=args.flood_rate)))
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
    print("| flood | ack p50 ms | p95 ms | max ms | flooder answered |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {'10 sockets' if r['flood'] else 'none'} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['max_ms']:.0f} | {r['flooder_answers']} |"
        )


if __name__ == "__main__":
    main()
