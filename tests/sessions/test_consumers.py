"""The live session WebSocket, end to end through the real ASGI app and consumers."""

from __future__ import annotations

import html5lib
import pytest
from channels.db import database_sync_to_async

from sessions.models import Message, Participant, SessionState
from tests.factories import World
from tests.sessions.live_helpers import connect, drain, frames_of, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.mark.parametrize("who", ["moderator", "observer", "resident", "resident2"])
async def test_audience_observers_and_moderators_may_connect(tx_world: World, who: str) -> None:
    comm, ok = await connect(getattr(tx_world, who), tx_world.session.pk)
    assert ok
    await comm.disconnect()


@pytest.mark.parametrize("who", ["outsider", "other_resident", "other_moderator", None])
async def test_others_are_refused(tx_world: World, who: str | None) -> None:
    user = getattr(tx_world, who) if who else None
    _comm, ok = await connect(user, tx_world.session.pk, hello=None)
    assert not ok


async def test_removed_participant_is_refused(tx_world: World) -> None:
    await database_sync_to_async(Participant.objects.create)(session=tx_world.session, user=tx_world.resident, removed=True)
    _comm, ok = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert not ok


async def test_foreign_origin_is_refused(tx_world: World) -> None:
    _comm, ok = await connect(tx_world.resident, tx_world.session.pk, origin="https://evil.example", hello=None)
    assert not ok


async def test_draft_session_is_refused_to_residents(tx_world: World) -> None:
    tx_world.session.state = SessionState.DRAFT
    await database_sync_to_async(tx_world.session.save)()
    _comm, ok = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert not ok


async def test_post_reaches_everyone_once_and_is_stored_first(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    m, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": "东门晚上能不能划线停车?", "client_id": "x1"})
    ack = next(f for f in await receive_until(a, "message.ack") if f["type"] == "message.ack")
    assert ack["client_id"] == "x1" and ack["seq"] == 1
    for comm in (a, b, m):
        frames = [f for f in await drain(comm, 0.5) if f["type"] == "message"]
        if comm is a and not frames:
            continue  # the sender may have received its copy before the ack
        assert len(frames) == 1
        assert frames[0]["seq"] == 1
        assert "东门晚上能不能划线停车" in frames[0]["html"]
    stored = await database_sync_to_async(lambda: list(Message.objects.values_list("seq", "text_html")))()
    assert stored == [(1, "东门晚上能不能划线停车?")]
    for comm in (a, b, m):
        await comm.disconnect()


async def test_sender_receives_own_message_exactly_once(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": "一次", "client_id": "c"})
    frames = await drain(a, 0.8)
    assert [f["seq"] for f in frames if f["type"] == "message"] == [1]
    await a.disconnect()


XSS = [
    "<script>alert(1)</script>hi",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '"><iframe src=//evil>',
]


@pytest.mark.parametrize("payload", XSS)
async def test_xss_comes_out_inert(tx_world: World, payload: str) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": f"看这里 {payload} 结束", "client_id": "x"})
    frame = (await frames_of(b, "message", 1))[0]
    assert "看这里" in frame["html"]
    doc = html5lib.parseFragment(frame["html"], namespaceHTMLElements=False)
    for el in doc.iter():
        assert el.tag not in {"script", "img", "iframe", "svg", "animate"}
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on")
            assert not value.strip().lower().startswith("javascript:")
    await a.disconnect()
    await b.disconnect()


async def test_too_long_message_is_refused_with_a_clear_sentence_and_nothing_stored(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk, language="en")
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": "长" * 2001, "client_id": "long"})
    error = (await frames_of(a, "error", 1))[0]
    assert error["code"] == "too_long" and error["client_id"] == "long"
    assert "too long" in error["message"] and "2001" in error["message"]
    assert [f for f in await drain(b) if f["type"] == "message"] == []
    assert await database_sync_to_async(Message.objects.count)() == 0
    await a.disconnect()
    await b.disconnect()


async def test_refusal_is_in_the_users_language(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk, language="zh-hans")
    await a.send_json_to({"type": "message.post", "text": "长" * 2001})
    error = (await frames_of(a, "error", 1))[0]
    assert "太长" in error["message"]
    await a.disconnect()


async def test_flood_is_refused_but_others_keep_talking(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    codes = []
    for i in range(7):
        await a.send_json_to({"type": "message.post", "text": f"第{i}条", "client_id": str(i)})
        reply = (await receive_until(a, "message.ack" if i < 5 else "error"))[-1]
        codes.append(reply["type"] if reply["type"] == "message.ack" else reply["code"])
    assert codes == ["message.ack"] * 5 + ["rate_limited"] * 2
    await b.send_json_to({"type": "message.post", "text": "我还能发言", "client_id": "b"})
    assert (await receive_until(b, "message.ack"))[-1]["seq"] == 6
    assert await database_sync_to_async(Message.objects.count)() == 6
    await a.disconnect()
    await b.disconnect()


async def test_muted_participant_cannot_post(tx_world: World) -> None:
    await database_sync_to_async(Participant.objects.create)(session=tx_world.session, user=tx_world.resident, muted=True)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": "hello"})
    assert (await frames_of(a, "error", 1))[0]["code"] == "muted"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await a.disconnect()


async def test_reconnect_with_last_seq_gets_exactly_the_missing_messages(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": "one", "client_id": "1"})
    await receive_until(a, "message.ack")
    await frames_of(b, "message", 1)
    await b.disconnect()  # b goes offline having seen seq 1
    for i in range(2, 5):
        await a.send_json_to({"type": "message.post", "text": f"m{i}", "client_id": str(i)})
        await receive_until(a, "message.ack")
    b2, _ = await connect(tx_world.resident2, tx_world.session.pk, hello=None)
    await b2.send_json_to({"type": "hello", "last_seq": 1})
    frames = await receive_until(b2, "synced")
    assert [f["seq"] for f in frames if f["type"] == "message"] == [2, 3, 4]
    assert frames[-1]["last_seq"] == 4
    await a.send_json_to({"type": "message.post", "text": "after", "client_id": "5"})
    assert [f["seq"] for f in await frames_of(b2, "message", 1)] == [5]
    assert [f for f in await drain(b2) if f["type"] == "message"] == []
    await a.disconnect()
    await b2.disconnect()


async def test_a_shared_replay_is_read_again_once_the_room_changes(tx_world: World) -> None:
    """hello replays are shared between connections (SessionFanout.shared_replay) only while
    nothing happens in the room: a new message, then a new reaction, each show in the next one."""
    a, _ = await connect(tx_world.resident, tx_world.session.pk)  # the empty history, now shared
    await a.send_json_to({"type": "message.post", "text": "one", "client_id": "1"})
    frames = await receive_until(a, "message.ack")
    ack = frames[-1]
    if not any(f["type"] == "message" for f in frames):
        await frames_of(a, "message", 1)  # the event has reached this process's fan-out (Redis: after the ack)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk, hello=None)
    await b.send_json_to({"type": "hello", "last_seq": 0})
    replayed = [f for f in await receive_until(b, "synced") if f["type"] == "message"]
    assert [f["seq"] for f in replayed] == [1]
    assert 'class="count-agree">0<' in replayed[0]["html"]
    await b.send_json_to({"type": "reaction.set", "message_id": ack["id"], "kind": "agree"})
    await frames_of(a, "reaction", 1)
    c, _ = await connect(tx_world.resident2, tx_world.session.pk, hello=None)
    await c.send_json_to({"type": "hello", "last_seq": 0})
    replayed = [f for f in await receive_until(c, "synced") if f["type"] == "message"]
    assert [f["seq"] for f in replayed] == [1]
    assert 'class="count-agree">1<' in replayed[0]["html"]
    for comm in (a, b, c):
        await comm.disconnect()


async def test_reactions_are_counted_once_per_person(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await a.send_json_to({"type": "message.post", "text": "同意吗", "client_id": "1"})
    ack = (await receive_until(a, "message.ack"))[-1]
    await b.send_json_to({"type": "reaction.set", "message_id": ack["id"], "kind": "agree"})
    await b.send_json_to({"type": "reaction.set", "message_id": ack["id"], "kind": "agree"})
    frames = await frames_of(a, "reaction", 2)
    assert frames[-1]["agree"] == 1 and frames[-1]["disagree"] == 0
    await b.send_json_to({"type": "reaction.set", "message_id": ack["id"], "kind": "disagree"})
    frame = (await frames_of(a, "reaction", 1))[0]
    assert (frame["agree"], frame["disagree"]) == (0, 1)
    await a.disconnect()
    await b.disconnect()


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"type": 5}',
        '{"type": "nope"}',
        '{"type": "message.post"}',
        '{"type": "message.post", "text": "x", "reply_to": 1e400}',
        '{"type": "hello", "last_seq": -1}',
        '{"type": "reaction.set", "message_id": "x"}',
        '{"type": "hello", "last_seq": 99999999999999999999999}',
    ],
)
async def test_malformed_input_gets_an_error_frame_and_the_room_goes_on(tx_world: World, raw: str) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await a.send_to(text_data=raw)
    frame = await a.receive_json_from(timeout=5)
    assert frame["type"] == "error" and frame["message"]
    await b.send_json_to({"type": "message.post", "text": "still fine", "client_id": "ok"})
    assert (await receive_until(b, "message.ack"))[-1]["seq"] == 1
    await a.send_json_to({"type": "message.post", "text": "me too", "client_id": "ok2"})
    assert (await receive_until(a, "message.ack"))[-1]["seq"] == 2
    await a.disconnect()
    await b.disconnect()


async def test_oversized_frame_is_refused(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await a.send_to(text_data='{"type":"message.post","text":"' + "x" * 70_000 + '"}')
    frame = await a.receive_json_from(timeout=5)
    assert frame["type"] == "error" and frame["code"] == "bad_frame"
    await a.disconnect()


async def test_presence_counts_people_by_building(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    b_again, _ = await connect(tx_world.resident2, tx_world.session.pk)  # a second tab counts once
    frames = await frames_of(a, "presence", 1, timeout=5)
    latest = frames[-1]
    for f in await drain(a, 1.0):
        if f["type"] == "presence":
            latest = f
    assert latest["count"] == 2
    assert {row["building"]: row["count"] for row in latest["by_building"]} == {"1号楼": 1, "2号楼": 1}
    for comm in (a, b, b_again):
        await comm.disconnect()


async def test_adjourned_session_refuses_posts(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    tx_world.session.state = SessionState.ADJOURNED
    await database_sync_to_async(tx_world.session.save)()
    await a.send_json_to({"type": "message.post", "text": "late"})
    assert (await frames_of(a, "error", 1))[0]["code"] == "closed"
    await a.disconnect()
