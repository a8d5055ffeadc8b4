"""What a screen or a resident sees when it (re)connects during an open vote, and a ``hello``
that fails closes the socket so the client reconnects (docs/protocol.md)."""

from __future__ import annotations

from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.test import Client

from agora.asgi import application
from sessions.live.fanout import SessionFanout
from sessions.live.handlers import CLOSE_HELLO_FAILED
from sessions.meeting import services as meeting
from tests.factories import World
from tests.sessions.live_helpers import connect, drain, receive_until
from tests.voting.helpers import open_motion, vote

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_vote_timers(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AGORA_TALLY_INTERVAL = 0
    settings.AGORA_VOTING_TIMERS = False


async def _projector(token: str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(
        application, f"/ws/projector/{token}/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    ok, _ = await comm.connect(timeout=5)
    assert ok
    return comm


def _two_open_votes(world: World) -> tuple[int, int]:
    """A secret approve/reject vote with two ballots and an open single-choice one with one."""
    secret = open_motion(world.session, world.moderator, text="东门夜间划线停车")
    vote(secret, world.resident, "yes")
    vote(secret, world.resident2, "no")
    public = open_motion(
        world.session,
        world.moderator,
        text="充电桩装在哪里",
        kind="single",
        secret=False,
        results_live=True,
        options=["北门车棚", "地下车库"],
    )
    vote(public, world.resident, "地下车库")
    return secret.pk, public.pk


async def test_a_projector_opened_during_votes_shows_each_question_its_options_and_count_at_once(tx_world: World) -> None:
    secret_id, public_id = await database_sync_to_async(_two_open_votes)(tx_world)
    room = await database_sync_to_async(meeting.meeting_room_ensure)(session=tx_world.session)
    screen = await _projector(room.projector_token)
    first = await drain(screen, 0.5)
    opened = {f["motion_id"]: f for f in first if f["type"] == "motion.opened"}
    tallies = {f["motion_id"]: f for f in first if f["type"] == "tally"}
    assert set(opened) == set(tallies) == {secret_id, public_id}

    assert "东门夜间划线停车" in opened[secret_id]["html"]
    assert "赞成" in opened[secret_id]["html"] and "反对" in opened[secret_id]["html"]
    assert tallies[secret_id]["total"] == 2 and 'data-total="2"' in tallies[secret_id]["html"]
    # A secret vote shows only how many ballots were cast, never who is ahead.
    assert "options" not in tallies[secret_id]
    assert "充电桩装在哪里" in opened[public_id]["html"] and "北门车棚" in opened[public_id]["html"]
    assert tallies[public_id]["total"] == 1
    assert {o["total"] for o in tallies[public_id]["options"]} == {0, 1}
    await screen.disconnect()


def test_the_projector_page_shows_every_open_vote_before_any_frame(world: World) -> None:
    secret_id, public_id = _two_open_votes(world)
    room = meeting.meeting_room_ensure(session=world.session)
    page = Client().get(f"/projector/{room.projector_token}/").content.decode()
    region = page[page.index('id="projector-vote"') : page.index("projector-join")]
    assert f'id="motion-{secret_id}"' in region and f'id="motion-{public_id}"' in region
    assert "东门夜间划线停车" in region and "充电桩装在哪里" in region
    assert "赞成" in region and "北门车棚" in region and "地下车库" in region
    assert f'id="tally-{secret_id}" data-total="2"' in region
    assert "<form" not in region  # the wall shows the question, it does not take ballots


async def test_a_resident_who_connects_after_ballots_gets_every_open_tally_before_synced(tx_world: World) -> None:
    secret_id, public_id = await database_sync_to_async(_two_open_votes)(tx_world)
    alice, ok = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert ok
    await alice.send_json_to({"type": "hello", "last_seq": 0})
    frames = await receive_until(alice, "synced")
    tallies = {f["motion_id"]: f["total"] for f in frames if f["type"] == "tally"}
    assert tallies == {secret_id: 2, public_id: 1}
    await alice.disconnect()


async def test_tallies_lost_by_the_channel_layer_reach_the_room_from_the_database(tx_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sessions.live.fanout.VOTE_CHECK_SECONDS", 3600.0)  # the test runs the checks
    motion = await database_sync_to_async(open_motion)(tx_world.session, tx_world.moderator)
    alice, _ok = await connect(tx_world.resident, tx_world.session.pk)
    await drain(alice, 0.3)
    # Two ballots whose announcements never arrive (the layer was down).
    with mock.patch("voting.announce.broadcast_now"):
        await database_sync_to_async(vote)(motion, tx_world.resident, "yes")
        await database_sync_to_async(vote)(motion, tx_world.resident2, "no")
    assert [f for f in await drain(alice, 0.3) if f["type"] == "tally"] == []
    from sessions.live.fanout import _FANOUTS

    fanout: SessionFanout = _FANOUTS[tx_world.session.pk]
    await fanout.check_votes()  # what its timer does every VOTE_CHECK_SECONDS
    tally = next(f for f in await drain(alice, 0.3) if f["type"] == "tally")
    assert tally["motion_id"] == motion.pk and tally["total"] == 2
    await fanout.check_votes()  # nothing changed: nothing sent again
    assert [f for f in await drain(alice, 0.3) if f["type"] == "tally"] == []
    await alice.disconnect()


async def test_a_hello_that_fails_closes_the_socket_so_the_client_reconnects(tx_world: World) -> None:
    alice, ok = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert ok
    with mock.patch("sessions.selectors.messages_after", side_effect=OperationalError("the database is away")):
        await alice.send_json_to({"type": "hello", "last_seq": 0})
        closing = await alice.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": CLOSE_HELLO_FAILED}
    # Under daphne, autobahn sends only 1000 or 3000–4999 from an application (it refused 1011,
    # so the close never reached the browser); live.js reconnects on any code but 4403.
    assert CLOSE_HELLO_FAILED == 1000 or 3000 <= CLOSE_HELLO_FAILED <= 4999
    # Once the database answers, the reconnect syncs.
    again, ok = await connect(tx_world.resident, tx_world.session.pk, hello=None)
    assert ok
    await again.send_json_to({"type": "hello", "last_seq": 0})
    assert (await receive_until(again, "synced"))[-1]["type"] == "synced"
    await again.disconnect()
