"""Topic session services: every transition allowed and refused, logged; messages stored then announced."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from sessions import services
from sessions.models import AttendanceIntent, Message, SessionState, SessionTransition
from tests.factories import World, session_make

pytestmark = pytest.mark.django_db

ALL = [SessionState.DRAFT, SessionState.SCHEDULED, SessionState.LIVE, SessionState.ADJOURNED, SessionState.ARCHIVED]
MOVES = {
    "schedule": (services.topic_session_schedule, SessionState.SCHEDULED, {SessionState.DRAFT}),
    "unschedule": (services.topic_session_unschedule, SessionState.DRAFT, {SessionState.SCHEDULED}),
    "open": (services.topic_session_open, SessionState.LIVE, {SessionState.SCHEDULED}),
    "adjourn": (services.topic_session_adjourn, SessionState.ADJOURNED, {SessionState.LIVE}),
    "archive": (services.topic_session_archive, SessionState.ARCHIVED, {SessionState.ADJOURNED}),
}


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("start", ALL)
def test_every_transition_is_allowed_only_from_its_states_and_logged(world: World, move: str, start: str) -> None:
    service, target, allowed_from = MOVES[move]
    session = session_make(world.community, world.moderator, state=start)
    if start in allowed_from:
        service(session=session, by=world.moderator)
        session.refresh_from_db()
        assert session.state == target
        log = SessionTransition.objects.get(session=session)
        assert (log.from_state, log.to_state, log.by) == (start, target, world.moderator)
        assert log.at <= timezone.now()
    else:
        with pytest.raises(Refused) as refusal:
            service(session=session, by=world.moderator)
        assert refusal.value.code == "bad_transition"
        session.refresh_from_db()
        assert session.state == start
        assert not SessionTransition.objects.filter(session=session).exists()


@pytest.mark.parametrize("who", ["resident", "observer", "outsider", "other_moderator", "other_resident"])
@pytest.mark.parametrize("move", MOVES)
def test_only_the_communitys_moderator_moves_a_session(world: World, who: str, move: str) -> None:
    service, _target, allowed_from = MOVES[move]
    session = session_make(world.community, world.moderator, state=next(iter(allowed_from)))
    with pytest.raises(NotAllowed):
        service(session=session, by=getattr(world, who))
    session.refresh_from_db()
    assert session.state == next(iter(allowed_from))
    assert not SessionTransition.objects.filter(session=session).exists()


def test_transition_announces_after_commit_only(world: World) -> None:
    session = session_make(world.community, world.moderator, state=SessionState.SCHEDULED)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        services.topic_session_open(session=session, by=world.moderator)
    assert len(callbacks) == 1


def test_create_cleans_text_and_builds_agenda(world: World) -> None:
    session = services.topic_session_create(
        community=world.community,
        by=world.moderator,
        title="<b>停车</b>议事<script>x</script>",
        starts_at=timezone.now(),
        description="<img src=x onerror=alert(1)>说明",
        agenda=["登记", "", "管理"],
    )
    assert session.title == "停车议事x"
    assert "onerror" not in session.description and "说明" in session.description
    assert [a.title for a in session.agenda_items.all()] == ["登记", "管理"]
    assert session.state == SessionState.DRAFT


def test_resident_cannot_create_a_session(world: World) -> None:
    with pytest.raises(NotAllowed):
        services.topic_session_create(community=world.community, by=world.resident, title="x", starts_at=timezone.now())


def test_messages_get_increasing_sequence_numbers(world: World) -> None:
    seqs = [
        services.message_post(session=world.session, author=u, text=f"m{i}").seq
        for i, u in enumerate([world.resident, world.resident2, world.moderator, world.observer])
    ]
    assert seqs == [1, 2, 3, 4]
    world.session.refresh_from_db()
    assert world.session.last_seq == 4


def test_rolled_back_message_is_never_announced(world: World) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks, pytest.raises(Refused):
        services.message_post(session=world.session, author=world.resident, text="x", reply_to_id=999999)
    assert callbacks == []
    assert Message.objects.count() == 0


def test_pre_meeting_comments_are_marked(world: World) -> None:
    session = session_make(world.community, world.moderator, state=SessionState.SCHEDULED, audience=[world.car_owner])
    message = services.message_post(session=session, author=world.resident, text="会前提个建议")
    assert message.before_start


@pytest.mark.parametrize("who", ["outsider", "other_resident", "other_moderator"])
def test_people_outside_the_session_cannot_post(world: World, who: str) -> None:
    with pytest.raises(NotAllowed):
        services.message_post(session=world.session, author=getattr(world, who), text="hi")
    assert Message.objects.count() == 0


def test_moderators_are_not_rate_limited(world: World) -> None:
    for i in range(8):
        services.message_post(session=world.session, author=world.moderator, text=f"通知{i}")
    assert Message.objects.count() == 8


def test_attendance_intent_for_audience_only(world: World) -> None:
    session = session_make(world.community, world.moderator, state=SessionState.SCHEDULED, audience=[world.car_owner])
    services.attendance_intent_set(session=session, user=world.resident, attending=True)
    services.attendance_intent_set(session=session, user=world.resident, attending=True)
    assert AttendanceIntent.objects.filter(session=session).count() == 1
    with pytest.raises(NotAllowed):
        services.attendance_intent_set(session=session, user=world.outsider, attending=True)
    services.attendance_intent_set(session=session, user=world.resident, attending=False)
    assert AttendanceIntent.objects.filter(session=session).count() == 0
