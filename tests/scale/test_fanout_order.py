"""The per-process fan-out writes messages in seq order, each once, and fills what the
channel layer lost from the database (announcements crossing between processes, an
announcement lost with Redis)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from sessions.events import live_event, session_group
from sessions.models import Message, TopicSession
from sessions.selectors import message_data
from tests.factories import World
from tests.sessions.live_helpers import connect, drain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _store(world: World, text: str) -> dict:
    """A stored message, not announced (as if its announcement were still in flight, or lost)."""
    session = TopicSession.objects.get(pk=world.session.pk)
    session.last_seq += 1
    session.save(update_fields=["last_seq"])
    message = Message.objects.create(session=session, seq=session.last_seq, author=world.moderator, text_html=text)
    return live_event(
        kind="message",
        payload={"seq": message.seq, "id": message.pk},
        template="sessions/partials/_message.html",
        context={"m": message_data(message)},
    )


async def test_announcements_that_cross_still_reach_everyone_in_order_once(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await drain(a)
    await drain(b)
    first = await database_sync_to_async(_store)(tx_world, "第一条")
    second = await database_sync_to_async(_store)(tx_world, "第二条")
    layer = get_channel_layer()
    await layer.group_send(session_group(tx_world.session.pk), second)  # 2 arrives before 1
    await layer.group_send(session_group(tx_world.session.pk), first)
    for comm in (a, b):
        messages = [f for f in await drain(comm, 0.8) if f["type"] == "message"]
        assert [f["seq"] for f in messages] == [1, 2]
        assert "第一条" in messages[0]["html"] and "第二条" in messages[1]["html"]
    await a.disconnect()
    await b.disconnect()


async def test_a_lost_announcement_is_filled_from_the_database(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await drain(a)
    await database_sync_to_async(_store)(tx_world, "公告丢了")  # never announced
    third = await database_sync_to_async(_store)(tx_world, "下一条")
    await get_channel_layer().group_send(session_group(tx_world.session.pk), third)
    messages = [f for f in await drain(a, 0.8) if f["type"] == "message"]
    assert [f["seq"] for f in messages] == [1, 2]
    assert "公告丢了" in messages[0]["html"]
    await a.disconnect()
