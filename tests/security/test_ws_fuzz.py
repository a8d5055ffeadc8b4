"""Malformed WebSocket input never raises in the server and never disturbs the room (hypothesis)."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.live import registry
from sessions.models import Message
from tests.factories import World
from tests.sessions.live_helpers import connect, drain, receive_until

scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10
)
known_types = st.sampled_from(["hello", "message.post", "reaction.set", "ping", "nope", "", "MESSAGE.POST"])
frames = st.one_of(
    st.fixed_dictionaries(
        {"type": known_types},
        optional={"text": values, "last_seq": values, "message_id": values, "kind": values, "reply_to": values, "client_id": values},
    ),
    values.map(json.dumps),
    st.text(max_size=50),
)


@pytest.mark.django_db(transaction=True)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(frames, min_size=1, max_size=12))
def test_fuzzed_frames_get_clean_answers_and_the_room_goes_on(tx_world: World, batch: list) -> None:  # type: ignore[type-arg]
    async def scenario() -> None:
        registry.rates_reset()  # every example is a new user, as far as the rate limits go
        fuzzer, ok = await connect(tx_world.resident, tx_world.session.pk)
        other, ok2 = await connect(tx_world.resident2, tx_world.session.pk)
        assert ok and ok2
        for frame in batch:
            await fuzzer.send_input({"type": "websocket.receive", "text": frame if isinstance(frame, str) else json.dumps(frame)})
        answers = await drain(fuzzer, 0.3)
        assert all(a.get("code") != "server_error" for a in answers), answers
        assert all(a["message"] for a in answers if a["type"] == "error")
        await fuzzer.send_json_to({"type": "ping"})
        assert (await receive_until(fuzzer, "pong"))[-1]["type"] == "pong"
        await other.send_json_to({"type": "ping"})
        assert (await receive_until(other, "pong"))[-1]["type"] == "pong"
        await fuzzer.disconnect()
        await other.disconnect()

    asyncio.run(scenario())


DEEP = "[" * 20_000 + "]" * 20_000
LONE_SURROGATE = '{"type": "message.post", "text": "\\ud800 停车", "client_id": "s1"}'


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    "raw",
    [DEEP, '{"type": "hello", "last_seq": ' + DEEP + "}", LONE_SURROGATE, '{"type": "ping", "x": {"\\udfff": 1}}'],
    ids=["deep array", "deep field", "lone surrogate in text", "lone surrogate in a key"],
)
async def test_a_deep_frame_or_a_lone_surrogate_gets_a_plain_error_and_the_socket_goes_on(tx_world: World, raw: str) -> None:
    comm, ok = await connect(tx_world.resident, tx_world.session.pk)
    assert ok
    await comm.send_to(text_data=raw)
    reply = (await receive_until(comm, "error"))[-1]
    assert (reply["code"], reply["message"]) == ("bad_json", "无法读取这条消息。")
    assert await database_sync_to_async(Message.objects.count)() == 0
    await comm.send_json_to({"type": "message.post", "text": "\U0001f600 还能发言", "client_id": "ok"})  # a real pair is text
    assert (await receive_until(comm, "message.ack"))[-1]["client_id"] == "ok"
    await comm.disconnect()
