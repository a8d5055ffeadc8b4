"""What a live connection may receive, and how often a post is stored (issue 14): a hidden
message stays hidden inside the replies that quote it; a resent post is stored once; a far-behind
client is replayed without being dropped; a connection whose person is no longer admitted closes."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from agora.roster.models import Membership, Resident, Role
from sessions import services
from sessions.live import fanout
from sessions.meeting import moderation
from sessions.models import Message, Participant
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

    await database_sync_to_async(moderation.message_hide)(
        session=tx_world.session, by=tx_world.moderator, message_id=quoted.pk, reason="隐私"
    )

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
    ack1 = next(f for f in await receive_until(first, "message.ack") if f["type"] == "message.ack")
    await first.disconnect()  # the ack might as well have been lost on the way
    other, _ = await connect(tx_world.resident2, tx_world.session.pk)
    again, _ = await connect(tx_world.resident, tx_world.session.pk, hello=ack1["seq"] - 1)
    await again.send_json_to(post)
    ack2 = next(f for f in await receive_until(again, "message.ack") if f["type"] == "message.ack")
    assert (ack2["id"], ack2["seq"], ack2["client_id"]) == (ack1["id"], ack1["seq"], "c1")
    assert ack2["replayed"] is True and ack1["replayed"] is False
    assert [f for f in await drain(other, 0.5) if f["type"] == "message"] == []  # no second message
    assert await database_sync_to_async(Message.objects.count)() == 1
    # Another composed message (another key) is a new message.
    await again.send_json_to({**post, "client_id": "c2", "idempotency_key": "j" * 24})
    ack3 = next(f for f in await receive_until(again, "message.ack") if f["type"] == "message.ack")
    assert ack3["seq"] == ack1["seq"] + 1
    for comm in (other, again):
        await comm.disconnect()


@pytest.mark.parametrize("key", ["short", "有中文的键有中文的键有中文的键有中文的键", 12345678901234567, "k" * 101])
async def test_a_post_with_a_malformed_key_is_refused_and_nothing_stored(tx_world: World, key: object) -> None:
    comm, _ = await connect(tx_world.resident, tx_world.session.pk)
    await comm.send_json_to({"type": "message.post", "text": "你好", "client_id": "c1", "idempotency_key": key})
    error = next(f for f in await receive_until(comm, "error") if f["type"] == "error")
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


# --- Item: a connection whose person is no longer admitted is closed without the channel layer.
# The changes below are made in the database only (no user.<id> event is sent, as when Redis is
# down): the fan-out's re-check must notice them.


async def _closed_within(comm, seconds: float = 4.0) -> tuple[list[dict], int]:  # noqa: ANN001
    """The frames up to the server's close, and the close code."""
    frames: list[dict] = []
    while True:
        output = await comm.receive_output(timeout=seconds)
        if output["type"] == "websocket.close":
            return frames, output.get("code", 1000)
        frames.append(__import__("json").loads(output["text"]))


def _remove(world: World) -> None:
    Participant.objects.create(session=world.session, user=world.resident, removed=True)


def _untag(world: World) -> None:
    Resident.objects.get(user=world.resident, community=world.community).tags.clear()


def _reset_password(world: World) -> None:
    user = type(world.resident).objects.get(pk=world.resident.pk)
    user.set_password("a-new-secret-42")
    user.save()


def _uninvite(world: World) -> None:
    world.session.observers.remove(world.observer)


@pytest.mark.parametrize(
    ("who", "change"),
    [("resident", _remove), ("resident", _untag), ("resident", _reset_password), ("observer", _uninvite)],
    ids=["removed", "untagged", "password_reset", "uninvited"],
)
async def test_a_person_no_longer_admitted_is_closed_within_seconds_without_the_channel_layer(tx_world: World, who: str, change) -> None:  # noqa: ANN001
    gone, _ = await connect(getattr(tx_world, who), tx_world.session.pk)
    stays, _ = await connect(tx_world.resident2, tx_world.session.pk)
    await database_sync_to_async(change)(tx_world)
    frames, code = await _closed_within(gone, fanout.ADMISSION_CHECK_SECONDS + 2.5)
    assert code == 4403
    assert frames[-1]["type"] == "closed"
    # The room goes on without them: the next message reaches the one who stays, not them.
    await database_sync_to_async(_post)(tx_world, tx_world.resident2, "下一条")
    assert [f["type"] for f in await drain(stays, 0.6) if f["type"] == "message"] == ["message"]
    assert fanout.local_connections(tx_world.session.pk) == 1
    for comm in (gone, stays):
        await comm.disconnect()


async def test_a_password_changed_on_this_browser_session_keeps_the_connection(tx_world: World) -> None:
    comm, _ = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    await comm.send_json_to({"type": "hello", "last_seq": 0})
    await receive_until(comm, "synced")

    def change_here() -> None:
        # As django.contrib.auth.update_session_auth_hash does for the browser that changed it
        # (without cycling the key: the cookie this connection has stays the valid one).
        from django.contrib.auth import HASH_SESSION_KEY
        from django.contrib.sessions.models import Session

        from agora.infra.session_store import SessionStore

        _reset_password(tx_world)
        user = type(tx_world.resident).objects.get(pk=tx_world.resident.pk)
        for row in Session.objects.all():
            store = SessionStore(row.session_key)
            if str(store.get("_auth_user_id")) == str(user.pk):
                store[HASH_SESSION_KEY] = user.get_session_auth_hash()
                store.save()

    await database_sync_to_async(change_here)()
    frames = await drain(comm, fanout.ADMISSION_CHECK_SECONDS * 2 + 0.5)
    assert [f for f in frames if f["type"] == "closed"] == []
    await database_sync_to_async(_post)(tx_world, tx_world.resident2, "还在")
    assert [f["type"] for f in await drain(comm, 0.6) if f["type"] == "message"] == ["message"]
    await comm.disconnect()


async def test_a_role_change_closes_the_connection_to_reconnect_with_the_right_view(tx_world: World) -> None:
    """A resident made moderator (or the reverse) reconnects: the frames a connection gets
    (moderators-only events, moderation controls) follow the role it was admitted with."""
    comm, _ = await connect(tx_world.resident, tx_world.session.pk)
    await database_sync_to_async(Membership.objects.create)(user=tx_world.resident, community=tx_world.community, role=Role.MODERATOR)
    frames, code = await _closed_within(comm, fanout.ADMISSION_CHECK_SECONDS + 2.5)
    assert code == fanout.CLOSE_SIGN_IN_CHANGED and [f for f in frames if f["type"] == "closed"] == []
    await comm.disconnect()
    again, ok = await connect(tx_world.resident, tx_world.session.pk)
    assert ok
    await again.disconnect()
