"""Floods over the real WebSocket stack: every live action has a rate per user, one user has a
bounded number of sockets, and a burst of reactions is announced as a few frames with the counts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from sessions.consumers import CLOSE_TOO_MANY, MAX_SOCKETS_PER_USER
from sessions.live import registry
from sessions.live.registry import Rate
from sessions.models import FloorRequest, FloorRequestState, Message, Presence, Reaction
from sessions.reactions import REACTION_INTERVAL
from tests.factories import World
from tests.sessions.live_helpers import connect, drain, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def no_refill(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented bursts, but no refill during the test: the (burst + 1)-th frame is refused
    however slow the machine is."""
    for kind in ("reaction.set", "hand.raise", "hand.lower", "ping", "message.post"):
        monkeypatch.setitem(registry.RATES, kind, Rate(burst=registry.rate_of(kind).burst, per_second=1e-9))


async def answers(comm: WebsocketCommunicator, count: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < count:
        frame = await comm.receive_json_from(timeout=5)
        if frame["type"] in kinds:
            got.append(frame)
    return got


async def post(comm: WebsocketCommunicator, text: str, client_id: str) -> dict[str, Any]:
    await comm.send_json_to({"type": "message.post", "text": text, "client_id": client_id})
    return (await receive_until(comm, "message.ack"))[-1]


async def test_a_reaction_flood_is_refused_in_words_and_changes_nothing(tx_world: World, no_refill: None) -> None:
    author, _ = await connect(tx_world.resident2, tx_world.session.pk)
    flooder, _ = await connect(tx_world.resident, tx_world.session.pk)
    message_id = (await post(author, "同意吗", "1"))["id"]
    burst = registry.rate_of("reaction.set").burst
    started = time.monotonic()
    for _i in range(burst):
        await flooder.send_json_to({"type": "reaction.set", "message_id": message_id, "kind": "agree"})
    for _i in range(5):
        await flooder.send_json_to({"type": "reaction.set", "message_id": message_id, "kind": "disagree", "client_id": "x"})
    # The 25 frames are handled in order; on a loaded machine the refusals come later than 0.6 s.
    refused: list[dict] = []
    deadline = time.monotonic() + 15
    while len(refused) < 5 and time.monotonic() < deadline:
        refused += [f for f in await drain(flooder, 0.6) if f["type"] == "error"]
    elapsed = time.monotonic() - started
    assert [f["code"] for f in refused] == ["rate_limited"] * 5
    assert all(f["request_type"] == "reaction.set" and f["message"] == "操作太频繁了，请稍等片刻再试。" for f in refused)
    kinds = await database_sync_to_async(lambda: list(Reaction.objects.values_list("kind", flat=True)))()
    assert kinds == ["agree"]  # none of the refused "disagree" was stored
    shown = [f for f in await drain(author, 0.6) if f["type"] == "reaction"]
    assert shown and (shown[-1]["agree"], shown[-1]["disagree"]) == (1, 0)
    assert len(shown) <= elapsed / REACTION_INTERVAL + 2  # one per interval, not one per frame
    await author.disconnect()
    await flooder.disconnect()


async def test_a_hand_flood_is_refused_and_the_queue_keeps_the_last_allowed_state(tx_world: World, no_refill: None) -> None:
    flooder, _ = await connect(tx_world.resident, tx_world.session.pk)
    for kind in ("hand.raise", "hand.lower"):
        for _i in range(registry.rate_of(kind).burst):
            await flooder.send_json_to({"type": kind, "client_id": kind})
    await drain(flooder, 0.6)
    await flooder.send_json_to({"type": "hand.raise", "client_id": "again"})
    reply = (await receive_until(flooder, "error"))[-1]
    assert (reply["code"], reply["request_type"], reply["client_id"]) == ("rate_limited", "hand.raise", "again")
    states = await database_sync_to_async(
        lambda: list(FloorRequest.objects.filter(user=tx_world.resident).values_list("state", flat=True))
    )()
    assert states == [FloorRequestState.WITHDRAWN]  # raised once, lowered once; the refused raise did nothing
    await flooder.disconnect()


async def test_a_ping_flood_gets_errors_not_pongs_and_stops_touching_presence(tx_world: World, no_refill: None) -> None:
    flooder, _ = await connect(tx_world.resident, tx_world.session.pk)
    for _i in range(registry.rate_of("ping").burst):
        await flooder.send_json_to({"type": "ping"})
    assert len(await answers(flooder, registry.rate_of("ping").burst, ("pong",))) == registry.rate_of("ping").burst
    seen = await database_sync_to_async(lambda: Presence.objects.get(user=tx_world.resident).last_seen)()
    for _i in range(3):
        await flooder.send_json_to({"type": "ping"})
    frames = [f for f in await drain(flooder, 0.4) if f["type"] in ("pong", "error")]
    assert [(f["type"], f.get("code")) for f in frames] == [("error", "rate_limited")] * 3
    assert await database_sync_to_async(lambda: Presence.objects.get(user=tx_world.resident).last_seen)() == seen
    await flooder.disconnect()


async def test_one_user_has_at_most_so_many_sockets_and_others_still_connect(tx_world: World) -> None:
    mine = [(await connect(tx_world.resident, tx_world.session.pk, hello=None))[0] for _i in range(MAX_SOCKETS_PER_USER)]
    extra, accepted = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert accepted  # accepted only to say why, then closed
    refusal = await extra.receive_json_from(timeout=5)
    assert (refusal["type"], refusal["code"]) == ("error", "too_many_connections")
    assert "窗口" in refusal["message"]
    assert (await extra.receive_output(timeout=5)) == {"type": "websocket.close", "code": CLOSE_TOO_MANY}
    assert await database_sync_to_async(Presence.objects.filter(user=tx_world.resident).count)() == MAX_SOCKETS_PER_USER
    other, ok = await connect(tx_world.resident2, tx_world.session.pk)
    assert ok
    await mine.pop().disconnect()  # a window closed: a new one may connect
    again, ok = await connect(tx_world.resident, tx_world.session.pk)
    assert ok
    await again.send_json_to({"type": "ping"})
    assert (await receive_until(again, "pong"))[-1]["type"] == "pong"
    for comm in [*mine, again, other]:
        await comm.disconnect()


async def test_a_burst_of_reactions_is_a_few_frames_with_the_final_counts(tx_world: World) -> None:
    author, _ = await connect(tx_world.resident2, tx_world.session.pk)
    reactor, _ = await connect(tx_world.resident, tx_world.session.pk)
    message_id = (await post(author, "东门划线停车", "1"))["id"]
    await drain(author, 0.3)
    started = time.monotonic()
    clicks = registry.rate_of("reaction.set").burst
    for i in range(clicks):  # agree, take back, agree, … ending on "disagree"
        kind = "disagree" if i == clicks - 1 else ("agree" if i % 2 == 0 else None)
        await reactor.send_json_to({"type": "reaction.set", "message_id": message_id, "kind": kind})
    await author.send_json_to({"type": "reaction.set", "message_id": message_id, "kind": "agree"})
    frames = [f for f in await drain(author, 3 * REACTION_INTERVAL) if f["type"] == "reaction"]
    elapsed = time.monotonic() - started
    assert frames and (frames[-1]["agree"], frames[-1]["disagree"]) == (1, 1)
    # At most one frame per interval (and the trailing one), not one per reaction.
    assert len(frames) <= elapsed / REACTION_INTERVAL + 2 < clicks + 1
    assert len(frames) < (clicks + 1) / 2
    await author.disconnect()
    await reactor.disconnect()


async def test_a_resident_is_answered_while_another_floods_from_every_socket(tx_world: World, no_refill: None) -> None:
    resident, _ = await connect(tx_world.resident2, tx_world.session.pk)
    message_id = (await post(resident, "第一条", "0"))["id"]
    flooders = [(await connect(tx_world.resident, tx_world.session.pk, hello=None))[0] for _i in range(MAX_SOCKETS_PER_USER)]
    per_socket = 30
    for comm in flooders:
        for i in range(per_socket):
            await comm.send_json_to({"type": "reaction.set" if i % 2 else "ping", "message_id": message_id, "kind": "agree"})
    ack = await post(resident, "我还能发言", "1")
    assert ack["seq"] == 2
    refused = 0
    for comm in flooders:
        # Frames are answered in order: once the marker is answered, so is the flood before it.
        await comm.send_json_to({"type": "marker.unknown"})
        answered = await receive_until(comm, "error", timeout=30)
        while answered[-1].get("code") != "unknown_type":
            answered += await receive_until(comm, "error", timeout=30)
        refused += sum(1 for f in answered if f.get("code") == "rate_limited")
    # Of 300 frames, only the two bursts did any work.
    allowed = registry.rate_of("ping").burst + registry.rate_of("reaction.set").burst
    assert refused == MAX_SOCKETS_PER_USER * per_socket - allowed
    assert await database_sync_to_async(Message.objects.count)() == 2
    await asyncio.gather(*(comm.disconnect() for comm in [*flooders, resident]))


async def test_a_new_socket_syncs_though_its_person_used_up_the_hello_rate(tx_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.RATES, "hello", Rate(burst=registry.rate_of("hello").burst, per_second=1e-9))  # no refill meanwhile
    busy, _ = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    burst = registry.rate_of("hello").burst
    for i in range(burst + 1):  # more hellos than the rate lets through: the last one is refused
        await busy.send_json_to({"type": "hello", "last_seq": 0, "client_id": f"h{i}"})
    refusals = [f for f in await drain(busy, wait=0.5) if f["type"] == "error"]
    assert [f["code"] for f in refusals] == ["rate_limited"], "the bucket is not empty: the test proves nothing"
    # Another window of the same person (a reload, a reconnect) still gets its history and goes live.
    fresh, accepted = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert accepted
    await fresh.send_json_to({"type": "hello", "last_seq": 0, "client_id": "first"})
    frames = await receive_until(fresh, "synced")
    assert not [f for f in frames if f["type"] == "error"]
    # Its second hello counts like any other: the bucket is still empty.
    await fresh.send_json_to({"type": "hello", "last_seq": 0, "client_id": "second"})
    frames = await receive_until(fresh, "error")
    assert frames[-1]["code"] == "rate_limited" and frames[-1]["client_id"] == "second"
    await busy.disconnect()
    await fresh.disconnect()
