"""What the big screen shows: the moderator's choice, refused for anyone else and for a result
that is not this session's closed vote; sent to the screens live (real consumers) and kept for a
reload."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from agora.infra.errors import NotAllowed, Refused
from sessions.meeting import services
from sessions.meeting.projector import screen_context
from sessions.models import MeetingRoom, ModerationAction
from tests.factories import World, session_make
from tests.sessions.live_helpers import connect, drain, receive_until
from tests.sessions.test_meeting_consumers import projector, request
from tests.voting.helpers import open_motion, vote
from voting.services import motion_close


@pytest.mark.django_db
def test_only_moderators_switch_the_screen_and_only_to_what_it_can_show(world: World) -> None:
    session = world.session
    room = services.meeting_room_ensure(session=session)
    for who in (world.resident, world.observer, world.other_moderator):
        with pytest.raises(NotAllowed):
            services.projector_show(session=session, by=who, screen="join")
        with pytest.raises(NotAllowed):
            services.projector_sound_set(session=session, by=who, sound=True)
    with pytest.raises(Refused) as bad:
        services.projector_show(session=session, by=world.moderator, screen="chat")
    assert bad.value.code == "bad_screen"
    motion = open_motion(session, world.moderator)
    with pytest.raises(Refused) as still_open:
        services.projector_show(session=session, by=world.moderator, screen="result", motion_id=motion.pk)
    assert still_open.value.code == "no_result"
    elsewhere = session_make(world.community, world.moderator, title="另一个专场")
    other = open_motion(elsewhere, world.moderator)
    motion_close(motion=other, by=world.moderator)
    with pytest.raises(Refused):
        services.projector_show(session=session, by=world.moderator, screen="result", motion_id=other.pk)
    room.refresh_from_db()
    assert (room.screen, room.screen_sound) == ("auto", False)
    assert not ModerationAction.objects.filter(action__startswith="projector.").exists()


@pytest.mark.django_db
def test_the_choice_is_logged_and_a_reload_shows_it(world: World) -> None:
    session = world.session
    motion = open_motion(session, world.moderator, text="东门夜间划线停车")
    vote(motion, world.resident, "yes")
    motion_close(motion=motion, by=world.moderator)
    room = services.projector_show(session=session, by=world.moderator, screen="result", motion_id=motion.pk)
    assert (room.screen, room.screen_motion_id) == ("result", motion.pk)
    assert ModerationAction.objects.get(action="projector.show").detail == {"screen": "result", "motion_id": motion.pk}
    shown = screen_context(session_id=session.pk, language="zh-hans")
    assert shown["screen"] == "result" and "东门夜间划线停车" in shown["result_html"] and "outcome" in shown["result_html"]
    page = Client().get(f"/projector/{room.projector_token}/").content.decode()
    assert 'data-screen="result"' in page and "东门夜间划线停车" in page and "css/voting.css" in page
    services.projector_show(session=session, by=world.moderator, screen="join")
    assert MeetingRoom.objects.get(pk=room.pk).screen_motion_id is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_screens_follow_the_switch_live_and_residents_never_get_it(tx_world: World) -> None:
    room = await database_sync_to_async(services.meeting_room_ensure)(session=tx_world.session)
    screen, ok = await projector(room.projector_token)
    assert ok
    await drain(screen, 0.4)
    resident, _ = await connect(tx_world.resident, tx_world.session.pk)
    await drain(resident, 0.3)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    reply = await request(mod, {"type": "projector.show", "screen": "agenda"})
    assert reply["type"] == "meeting.ack"
    frames = await receive_until(screen, "screen")
    assert frames[-1]["screen"] == "agenda" and frames[-1]["sound"] is False
    reply = await request(mod, {"type": "projector.sound", "sound": "1"})
    frames = await receive_until(screen, "screen")
    assert frames[-1]["sound"] is True and frames[-1]["sound_only"] is True
    refused = await request(resident, {"type": "projector.show", "screen": "join"})
    assert refused["type"] == "error"
    assert all(f["type"] != "screen" for f in await drain(resident, 0.4))
    for comm in (screen, resident, mod):
        await comm.disconnect()
