"""The meeting over the real WebSocket stack: permission table, floor frames, moderation
re-rendered per viewer, removal closing sockets, and the receive-only projector."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from agora.asgi import application
from sessions.meeting import services
from sessions.meeting.commands import COMMANDS
from sessions.models import Attendance, FloorRequest, Message
from tests.factories import World
from tests.sessions.live_helpers import connect, drain, receive_until
from tests.sessions.meeting_helpers import fingerprint, meeting_make, moderator_actions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

MODERATOR_ONLY = sorted(name for name, c in COMMANDS.items() if c.moderator_only)


async def request(comm: WebsocketCommunicator, frame: dict[str, Any], seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Send a request and return its answer (meeting.ack or error); other frames go to ``seen``."""
    await comm.send_json_to({**frame, "client_id": "t1"})
    while True:
        reply = await comm.receive_json_from(timeout=5)
        if reply["type"] in ("meeting.ack", "error") and reply.get("client_id") == "t1":
            return reply
        if seen is not None:
            seen.append(reply)


@pytest.mark.parametrize("who", ["resident", "observer"])
async def test_every_moderator_action_is_refused_over_the_websocket_and_changes_nothing(tx_world: World, who: str) -> None:
    meeting = await database_sync_to_async(meeting_make)(tx_world)
    actions = moderator_actions(meeting)
    comm, ok = await connect(getattr(tx_world, who), tx_world.session.pk)
    assert ok
    before = await database_sync_to_async(fingerprint)(tx_world.session)
    for action in MODERATOR_ONLY:
        reply = await request(comm, {"type": action, **actions[action]})
        assert reply["type"] == "error" and reply["code"] == "forbidden", action
        assert reply["request_type"] == action and "主持人" in reply["message"]
    assert await database_sync_to_async(fingerprint)(tx_world.session) == before
    await comm.disconnect()


async def test_the_moderator_can_do_each_of_them_over_the_websocket(tx_world: World) -> None:
    actions = moderator_actions(await database_sync_to_async(meeting_make)(tx_world))
    comm, _ = await connect(tx_world.moderator, tx_world.session.pk)
    for action in ("message.pin", "floor.limit", "agenda.add", "slow_mode.set", "guests.set", "floor.give"):
        reply = await request(comm, {"type": action, **actions[action]})
        assert reply == {"type": "meeting.ack", "request_type": action, "client_id": "t1"}
    await comm.disconnect()


async def test_raised_hands_reach_everyone_and_the_moderator_gives_the_floor(tx_world: World) -> None:
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    bob, _ = await connect(tx_world.resident2, tx_world.session.pk)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    watcher, _ = await connect(tx_world.observer, tx_world.session.pk)
    assert (await request(alice, {"type": "hand.raise"}))["type"] == "meeting.ack"
    assert (await request(bob, {"type": "hand.raise"}))["type"] == "meeting.ack"
    frames = [f for f in await drain(mod, 0.5) if f["type"] == "floor"]
    assert frames[-1]["queue_user_ids"] == [tx_world.resident.pk, tx_world.resident2.pk]
    assert "举手" not in frames[-1]["html"] and "请其发言" in frames[-1]["html"]  # the moderator's controls
    observer_view = [f for f in await drain(watcher, 0.3) if f["type"] == "floor"][-1]["html"]
    assert "res1" in observer_view and "请其发言" not in observer_view
    await request(mod, {"type": "floor.give", "limit_seconds": 90})
    for comm in (alice, bob, watcher):
        floor = [f for f in await drain(comm, 0.5) if f["type"] == "floor"][-1]
        assert floor["speaker"]["name"] == "res1" and floor["speaker"]["limit_seconds"] == 90
        assert floor["speaker"]["started_at"] and floor["queue_user_ids"] == [tx_world.resident2.pk]
        assert "正在发言" in floor["html"] and 'role="timer"' in floor["html"]
    for comm in (alice, bob, mod, watcher):
        await comm.disconnect()


async def test_a_resident_cannot_lower_someone_elses_hand(tx_world: World) -> None:
    await database_sync_to_async(services.hand_raise)(session=tx_world.session, user=tx_world.resident2)
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    reply = await request(alice, {"type": "hand.lower", "user_id": tx_world.resident2.pk})
    assert reply["type"] == "error" and reply["code"] == "not_raised"
    assert await database_sync_to_async(FloorRequest.objects.filter(user=tx_world.resident2, state="waiting").count)() == 1
    await alice.disconnect()


async def test_a_hidden_message_disappears_for_residents_and_stays_for_moderators(tx_world: World) -> None:
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await alice.send_json_to({"type": "message.post", "text": "这条要被隐藏", "client_id": "p"})
    await receive_until(alice, "message.ack")
    message = await database_sync_to_async(Message.objects.get)(text_html="这条要被隐藏")
    await drain(mod, 0.3)
    await drain(alice, 0.1)
    mod_frames: list[dict[str, Any]] = []
    assert (await request(mod, {"type": "message.hide", "message_id": message.pk, "reason": "无关广告"}, mod_frames))[
        "type"
    ] == "meeting.ack"
    seen_by_alice = [f for f in await drain(alice, 0.5) if f["type"] == "message.updated"]
    seen_by_mod = [f for f in mod_frames + await drain(mod, 0.3) if f["type"] == "message.updated"]
    assert seen_by_alice[0]["seq"] == message.seq and seen_by_alice[0]["hidden"] is True
    assert seen_by_alice[0]["html"].strip() == ""
    assert "这条要被隐藏" in seen_by_mod[0]["html"] and "无关广告" in seen_by_mod[0]["html"]
    # A resident who reconnects does not get it back in the replay either.
    late, _ = await connect(tx_world.resident2, tx_world.session.pk, hello=None)
    await late.send_json_to({"type": "hello", "last_seq": 0})
    replay = [f for f in await receive_until(late, "synced") if f["type"] == "message"]
    assert all("这条要被隐藏" not in f["html"] for f in replay)
    for comm in (alice, mod, late):
        await comm.disconnect()


async def test_removing_a_participant_closes_their_connection_and_keeps_them_out(tx_world: World) -> None:
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await request(mod, {"type": "participant.remove", "user_id": tx_world.resident.pk, "reason": "扰乱会场"})
    frames = await receive_until(alice, "closed")
    assert frames[-1]["reason"] == "removed"
    assert (await alice.receive_output(timeout=2))["type"] == "websocket.close"
    _again, ok = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert not ok
    await mod.disconnect()


async def test_a_muted_person_is_told_at_once(tx_world: World) -> None:
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await request(mod, {"type": "participant.mute", "user_id": tx_world.resident.pk})
    status = [f for f in await drain(alice, 0.5) if f["type"] == "participant.status"]
    assert status == [{"type": "participant.status", "session_id": tx_world.session.pk, "muted": True, "removed": False}]
    reply = await request(alice, {"type": "hand.raise"})
    assert reply["type"] == "error" and reply["code"] == "muted"
    for comm in (alice, mod):
        await comm.disconnect()


async def test_meeting_sync_sends_the_floor_and_the_agenda(tx_world: World) -> None:
    await database_sync_to_async(meeting_make)(tx_world)
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    await alice.send_json_to({"type": "meeting.sync"})
    frames = {f["type"]: f for f in await drain(alice, 0.5)}
    assert frames["floor"]["speaker"]["name"] == "res2" and "张三" in frames["floor"]["html"]
    assert "议程1" in frames["agenda"]["html"] and frames["agenda"]["current_item_id"]
    await alice.disconnect()


async def test_joining_online_is_remembered_for_attendance(tx_world: World) -> None:
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    await alice.disconnect()
    row = await database_sync_to_async(Attendance.objects.get)(user=tx_world.resident)
    assert row.online_at is not None and row.checked_in_at is None


# --- the projector ------------------------------------------------------------------------


async def projector(token: str) -> tuple[WebsocketCommunicator, bool]:
    comm = WebsocketCommunicator(
        application, f"/ws/projector/{token}/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    ok, _ = await comm.connect(timeout=5)
    return comm, ok


async def test_the_projector_is_admitted_by_its_token_and_only_receives(tx_world: World) -> None:
    await database_sync_to_async(meeting_make)(tx_world)
    room = await database_sync_to_async(services.meeting_room_ensure)(session=tx_world.session)
    _bad, ok = await projector("not-the-token")
    assert not ok
    screen, ok = await projector(room.projector_token)
    assert ok
    first = {f["type"]: f for f in await drain(screen, 0.5)}
    assert first["floor"]["speaker"]["name"] == "res2" and "projector" in first["floor"]["html"]
    before = await database_sync_to_async(fingerprint)(tx_world.session)
    for action in [*MODERATOR_ONLY, "hand.raise", "message.post"]:
        await screen.send_json_to({"type": action, "text": "x", "message_id": 1})
        reply = await screen.receive_json_from(timeout=5)
        assert reply["type"] == "error" and reply["code"] == "read_only"
    assert await database_sync_to_async(fingerprint)(tx_world.session) == before
    await screen.send_json_to({"type": "ping"})
    assert (await screen.receive_json_from(timeout=5))["type"] == "pong"
    # It follows the floor, but the discussion never reaches the wall.
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    await alice.send_json_to({"type": "message.post", "text": "私下的发言", "client_id": "x"})
    await receive_until(alice, "message.ack")
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await request(mod, {"type": "floor.take"})
    frames = await drain(screen, 0.6)
    assert [f["type"] for f in frames if f["type"] != "presence"] == ["floor"]
    floor = next(f for f in frames if f["type"] == "floor")
    assert floor["speaker"] is None and all("私下的发言" not in str(f) for f in frames)
    await database_sync_to_async(services.projector_link_rotate)(session=tx_world.session, by=tx_world.moderator)
    closing = await receive_until(screen, "closed")
    assert closing[-1]["reason"] == "projector_rotated"
    _old, ok = await projector(room.projector_token)
    assert not ok
    for comm in (alice, mod):
        await comm.disconnect()


async def test_moderators_get_attendance_on_request_and_residents_do_not(tx_world: World) -> None:
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await mod.send_json_to({"type": "attendance.sync"})
    frame = [f for f in await drain(mod, 0.5) if f["type"] == "attendance"][-1]
    assert frame["total"] == 2 and frame["online_only"] == 2 and "共 2 人" in frame["html"]
    reply = await request(alice, {"type": "attendance.sync"})
    assert reply["type"] == "error" and reply["code"] == "forbidden"
    for comm in (alice, mod):
        await comm.disconnect()
