"""What a live connection may receive, and how often a post is stored (issue 14): a hidden
message stays hidden inside the replies that quote it; a resent post is stored once; a far-behind
client is replayed without being dropped; a connection whose person is no longer admitted closes."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from sessions import services
from sessions.meeting import moderation
from sessions.models import Message
from tests.factories import World
from tests.sessions.live_helpers import connect, drain, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SECRET = "二号楼的门禁密码是4321"


def _post(world: World, author, text: str, reply_to: Message | None = None) -> Message:  # noqa: ANN001
    return services.message_post(session=world.session, author=author, text=text, reply_to_id=reply_to.pk if reply_to else None)


def _page(world: World, user) -> str:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client.get(f"/sessions/{world.session.pk}/").content.decode()


async def test_a_hidden_message_does_not_reach_residents_through_a_reply_that_quotes_it(tx_world: World) -> None:
    quoted = await database_sync_to_async(_post)(tx_world, tx_world.resident2, SECRET)
    reply = await database_sync_to_async(_post)(tx_world, tx_world.resident, "别在群里说这个", quoted)
    # A first replay renders the reply with its quote (and this process caches that rendering).
    early, _ = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    await early.send_json_to({"type": "hello", "last_seq": 0})
    replayed = {f["seq"]: f["html"] for f in await receive_until(early, "synced") if f["type"] == "message"}
    assert SECRET in replayed[reply.seq]

    await database_sync_to_async(moderation.message_hide)(session=tx_world.session, by=tx_world.moderator, message_id=quoted.pk, reason="隐私")

    # Live: the resident's reply is re-rendered without the quoted words.
    updates = {f["seq"]: f["html"] for f in await drain(early, 0.8) if f["type"] == "message.updated"}
    assert reply.seq in updates and SECRET not in updates[reply.seq]
    assert 'class="quote"' in updates[reply.seq]
    # Replay: a new connection of the same kind (same language and role) gets a fresh rendering.
    late, _ = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    await late.send_json_to({"type": "hello", "last_seq": 0})
    frames = [f for f in await receive_until(late, "synced") if f["type"] == "message"]
    assert [f["seq"] for f in frames] == [quoted.seq, reply.seq]
    assert all(SECRET not in f["html"] for f in frames)
    assert 'class="quote"' in frames[1]["html"]
    # The page.
    assert SECRET not in await database_sync_to_async(_page)(tx_world, tx_world.resident)
    for comm in (early, late):
        await comm.disconnect()


async def test_a_post_resent_after_a_reconnect_is_stored_once_and_acked_alike(tx_world: World) -> None:
    post = {"type": "message.post", "text": "东门晚上能不能划线停车?", "reply_to": None, "client_id": "c1", "idempotency_key": "k" * 24}
    first, _ = await connect(tx_world.resident, tx_world.session.pk)
    await first.send_json_to(post)
    ack1 = [f for f in await receive_until(first, "message.ack") if f["type"] == "message.ack"][0]
    await first.disconnect()  # the ack might as well have been lost on the way
    other, _ = await connect(tx_world.resident2, tx_world.session.pk)
    again, _ = await connect(tx_world.resident, tx_world.session.pk, hello=ack1["seq"] - 1)
    await again.send_json_to(post)
    ack2 = [f for f in await receive_until(again, "message.ack") if f["type"] == "message.ack"][0]
    assert (ack2["id"], ack2["seq"], ack2["client_id"]) == (ack1["id"], ack1["seq"], "c1")
    assert ack2["replayed"] is True and ack1["replayed"] is False
    assert [f for f in await drain(other, 0.5) if f["type"] == "message"] == []  # no second message
    assert await database_sync_to_async(Message.objects.count)() == 1
    # Another composed message (another key) is a new message.
    await again.send_json_to({**post, "client_id": "c2", "idempotency_key": "j" * 24})
    ack3 = [f for f in await receive_until(again, "message.ack") if f["type"] == "message.ack"][0]
    assert ack3["seq"] == ack1["seq"] + 1
    for comm in (other, again):
        await comm.disconnect()


@pytest.mark.parametrize("key", ["short", "有中文的键有中文的键有中文的键有中文的键", 12345678901234567, "k" * 101])
async def test_a_post_with_a_malformed_key_is_refused_and_nothing_stored(tx_world: World, key: object) -> None:
    comm, _ = await connect(tx_world.resident, tx_world.session.pk)
    await comm.send_json_to({"type": "message.post", "text": "你好", "client_id": "c1", "idempotency_key": key})
    error = [f for f in await receive_until(comm, "error") if f["type"] == "error"][0]
    assert error["code"] == "bad_key" and error["client_id"] == "c1" and "idempotency_key" in error["message"]
    assert await database_sync_to_async(Message.objects.count)() == 0
    await comm.disconnect()


async def test_the_same_key_from_two_authors_is_two_messages(tx_world: World) -> None:
    def post_both() -> tuple[Message, Message]:
        a = services.message_post(session=tx_world.session, author=tx_world.resident, text="一", idempotency_key="x" * 20)
        b = services.message_post(session=tx_world.session, author=tx_world.resident2, text="二", idempotency_key="x" * 20)
        return a, b

    a, b = await database_sync_to_async(post_both)()
    assert a.pk != b.pk and await database_sync_to_async(Message.objects.count)() == 2
