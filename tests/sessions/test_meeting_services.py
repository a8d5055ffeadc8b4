"""Meeting services: the queue, the floor and its timer, the agenda, moderation and its log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import AuditEvent
from sessions import services as session_services
from sessions.meeting import moderation, services
from sessions.meeting.rules import (
    floor_elapsed_seconds,
    floor_remaining_seconds,
    is_valid_join_code,
    normalize_join_code,
)
from sessions.models import (
    AgendaItem,
    AgendaItemState,
    FloorRequest,
    FloorRequestState,
    Message,
    ModerationAction,
    Participant,
    SessionState,
)
from sessions.slow_mode import slow_mode_wait_seconds
from tests.factories import World

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


def queue_names(world: World) -> list[str]:
    return list(
        FloorRequest.objects.filter(session=world.session, state=FloorRequestState.WAITING)
        .order_by("raised_at", "pk")
        .values_list("name", flat=True)
    )


def speaker(world: World) -> FloorRequest | None:
    return FloorRequest.objects.filter(session=world.session, state=FloorRequestState.SPEAKING).first()


# --- pure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "elapsed,limit,remaining",
    [(0, 120, 120), (30, 120, 90), (120, 120, 0), (150, 120, -30), (45, None, None), (45, 0, None)],
)
def test_remaining_time_is_computed_from_start_and_limit(elapsed: int, limit: int | None, remaining: int | None) -> None:
    now = T0 + timedelta(seconds=elapsed, milliseconds=400)
    assert floor_elapsed_seconds(started_at=T0, now=now) == elapsed
    assert floor_remaining_seconds(started_at=T0, limit_seconds=limit, now=now) == remaining


def test_a_clock_behind_the_start_never_shows_negative_elapsed_time() -> None:
    assert floor_elapsed_seconds(started_at=T0, now=T0 - timedelta(seconds=3)) == 0


@pytest.mark.parametrize("every,since,wait", [(0, 1, 0), (30, None, 0), (30, 0, 30), (30, 10, 20), (30, 29.5, 1), (30, 30, 0), (30, 90, 0)])
def test_slow_mode_wait(every: int, since: float | None, wait: int) -> None:
    last = None if since is None else T0 - timedelta(seconds=since)
    assert slow_mode_wait_seconds(slow_mode_seconds=every, last_message_at=last, now=T0) == wait


@pytest.mark.parametrize(
    "typed,code,valid", [("k7px3m", "K7PX3M", True), (" K7P-X3M ", "K7PX3M", True), ("K7PX3", "K7PX3", False), ("O0I1L5", "O0I1L5", False)]
)
def test_join_codes_are_forgiving_to_type_but_strict_in_alphabet(typed: str, code: str, valid: bool) -> None:
    assert normalize_join_code(typed) == code
    assert is_valid_join_code(code) is valid


def test_each_room_gets_its_own_unambiguous_code_once(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    assert is_valid_join_code(room.join_code)
    assert services.meeting_room_ensure(session=world.session).pk == room.pk
    assert room.projector_token != room.checkin_token and len(room.projector_token) >= 30


# --- the queue and the floor ------------------------------------------------------------


def test_hands_queue_in_the_order_they_were_raised(world: World) -> None:
    services.hand_raise(session=world.session, user=world.resident2)
    services.hand_raise(session=world.session, user=world.observer)
    services.hand_raise(session=world.session, user=world.resident)
    assert queue_names(world) == ["res2", "obs", "res1"]


def test_a_hand_is_raised_once_and_lowered_by_its_owner(world: World) -> None:
    services.hand_raise(session=world.session, user=world.resident)
    with pytest.raises(Refused) as again:
        services.hand_raise(session=world.session, user=world.resident)
    assert again.value.code == "already_raised"
    services.hand_lower(session=world.session, user=world.resident)
    assert queue_names(world) == []
    with pytest.raises(Refused):
        services.hand_lower(session=world.session, user=world.resident)
    services.hand_raise(session=world.session, user=world.resident)  # may raise again later
    assert queue_names(world) == ["res1"]


@pytest.mark.parametrize("state", [SessionState.SCHEDULED, SessionState.ADJOURNED])
def test_hands_are_raised_only_while_live(world: World, state: str) -> None:
    world.session.state = state
    world.session.save()
    with pytest.raises(Refused):
        services.hand_raise(session=world.session, user=world.resident)
    assert not FloorRequest.objects.exists()


def test_outsiders_and_muted_people_cannot_raise_a_hand(world: World) -> None:
    with pytest.raises(NotAllowed):
        services.hand_raise(session=world.session, user=world.outsider)
    Participant.objects.create(session=world.session, user=world.resident, muted=True)
    with pytest.raises(NotAllowed) as muted:
        services.hand_raise(session=world.session, user=world.resident)
    assert muted.value.code == "muted"
    assert not FloorRequest.objects.exists()


def test_giving_the_floor_moves_through_the_queue_and_ends_the_previous_turn(world: World) -> None:
    services.hand_raise(session=world.session, user=world.resident)
    services.hand_raise(session=world.session, user=world.resident2)
    first = services.floor_give(session=world.session, by=world.moderator)
    assert first.user == world.resident and speaker(world).pk == first.pk
    assert queue_names(world) == ["res2"]
    second = services.floor_give(session=world.session, by=world.moderator)
    first.refresh_from_db()
    assert first.state == FloorRequestState.DONE and first.ended_at is not None
    assert speaker(world).pk == second.pk and queue_names(world) == []
    with pytest.raises(Refused) as empty:
        services.floor_give(session=world.session, by=world.moderator)
    assert empty.value.code == "queue_empty"
    assert speaker(world).pk == second.pk  # a refused give changes nothing
    taken = services.floor_take(session=world.session, by=world.moderator)
    assert taken.pk == second.pk and speaker(world) is None
    with pytest.raises(Refused):
        services.floor_take(session=world.session, by=world.moderator)


def test_the_moderator_may_call_anyone_in_the_queue_out_of_order(world: World) -> None:
    services.hand_raise(session=world.session, user=world.resident)
    later = services.hand_raise(session=world.session, user=world.resident2)
    services.floor_give(session=world.session, by=world.moderator, request_id=later.pk)
    assert speaker(world).user == world.resident2 and queue_names(world) == ["res1"]


def test_in_room_speakers_join_the_queue_by_name(world: World) -> None:
    services.hand_raise(session=world.session, user=world.resident)
    added = services.floor_add(session=world.session, by=world.moderator, name="  王阿姨 <b>3号楼</b> ")
    assert added.in_room and added.user is None and added.name == "王阿姨 3号楼" and added.added_by == world.moderator
    assert queue_names(world)[-1] == added.name
    with pytest.raises(Refused):
        services.floor_add(session=world.session, by=world.moderator, name="   ")
    by_roster = services.floor_add(session=world.session, by=world.moderator, name="", user_id=world.resident2.pk)
    assert by_roster.user == world.resident2 and by_roster.in_room
    with pytest.raises(Refused):  # not in the audience
        services.floor_add(session=world.session, by=world.moderator, name="", user_id=world.outsider.pk)


def test_the_time_limit_is_stored_with_the_turn(world: World) -> None:
    services.speaker_limit_set(session=world.session, by=world.moderator, seconds=120)
    services.hand_raise(session=world.session, user=world.resident)
    services.hand_raise(session=world.session, user=world.resident2)
    turn = services.floor_give(session=world.session, by=world.moderator)
    assert turn.limit_seconds == 120 and turn.started_at is not None
    services.speaker_limit_set(session=world.session, by=world.moderator, seconds=0)
    turn.refresh_from_db()
    assert turn.limit_seconds == 120  # the current speaker keeps theirs
    turn2 = services.floor_give(session=world.session, by=world.moderator, limit_seconds=45)
    assert turn2.limit_seconds == 45
    with pytest.raises(Refused):
        services.speaker_limit_set(session=world.session, by=world.moderator, seconds=99999)


def test_floor_snapshot_has_the_timer_numbers(world: World) -> None:
    from sessions.meeting.selectors import floor_data

    services.hand_raise(session=world.session, user=world.resident)
    turn = services.floor_give(session=world.session, by=world.moderator, limit_seconds=60)
    FloorRequest.objects.filter(pk=turn.pk).update(started_at=timezone.now() - timedelta(seconds=75))
    data = floor_data(session=world.session)
    assert data["speaker"]["name"] == "res1" and data["speaker"]["building"] == "1号楼"
    assert data["speaker"]["limit_seconds"] == 60
    assert 75 <= data["speaker"]["elapsed"] <= 77 and -17 <= data["speaker"]["remaining"] <= -15


def test_floor_changes_are_announced_only_after_commit(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    with mock.patch("agora.infra.broadcast.broadcast_now") as sent:
        with django_capture_on_commit_callbacks(execute=True):
            services.hand_raise(session=world.session, user=world.resident)
        group, event = sent.call_args.args
        assert group == f"session.{world.session.pk}" and event["kind"] == "floor"
        assert event["payload"]["queue_user_ids"] == [world.resident.pk]
        assert event["template"] == "sessions/partials/_floor.html"
        sent.reset_mock()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(Refused):
            services.hand_raise(session=world.session, user=world.resident)
        sent.assert_not_called()


# --- the agenda -------------------------------------------------------------------------


def make_agenda(world: World) -> list[AgendaItem]:
    return [
        AgendaItem.objects.create(session=world.session, position=i, title=t, planned_minutes=m)
        for i, (t, m) in enumerate([("登记车辆", 10), ("分配方案", 20), ("租户车位", None)], start=1)
    ]


def test_the_moderator_moves_through_the_agenda_and_messages_follow(world: World) -> None:
    items = make_agenda(world)
    assert services.agenda_item_start(session=world.session, by=world.moderator) == items[0]
    m1 = session_services.message_post(session=world.session, author=world.resident, text="第一项的发言")
    assert m1.agenda_item == items[0]
    services.agenda_item_start(session=world.session, by=world.moderator)
    m2 = session_services.message_post(session=world.session, author=world.resident2, text="第二项的发言")
    assert m2.agenda_item == items[1]
    states = dict(AgendaItem.objects.values_list("title", "state"))
    assert states == {"登记车辆": AgendaItemState.DONE, "分配方案": AgendaItemState.CURRENT, "租户车位": AgendaItemState.PENDING}
    services.agenda_item_start(session=world.session, by=world.moderator, item_id=items[0].pk)  # back to the first
    world.session.refresh_from_db()
    assert world.session.current_agenda_item == items[0]
    services.agenda_item_start(session=world.session, by=world.moderator)  # → the last pending one
    assert services.agenda_item_start(session=world.session, by=world.moderator) is None  # finished
    world.session.refresh_from_db()
    assert world.session.current_agenda_item is None
    with pytest.raises(Refused) as end:
        services.agenda_item_start(session=world.session, by=world.moderator)
    assert end.value.code == "agenda_end"
    assert [a.action for a in ModerationAction.objects.order_by("pk")] == ["agenda.start"] * 4 + ["agenda.finish"]


def test_agenda_items_can_be_added_and_are_checked(world: World) -> None:
    make_agenda(world)
    item = services.agenda_item_add(session=world.session, by=world.moderator, title="其他事项", planned_minutes=5)
    assert item.position == 4
    for bad in ({"title": "  "}, {"title": "x", "planned_minutes": 0}, {"title": "x", "planned_minutes": 601}):
        with pytest.raises(Refused):
            services.agenda_item_add(session=world.session, by=world.moderator, **bad)
    with pytest.raises(Refused):
        services.agenda_item_start(session=world.session, by=world.moderator, item_id=999999)


# --- moderation and its log ------------------------------------------------------------


def post(world: World, text: str = "一条发言") -> Message:
    return session_services.message_post(session=world.session, author=world.resident, text=text)


def last_log(world: World) -> ModerationAction:
    return ModerationAction.objects.filter(session=world.session).latest("pk")


def test_pin_and_unpin_are_logged(world: World) -> None:
    m = post(world)
    moderation.message_pin(session=world.session, by=world.moderator, message_id=m.pk)
    m.refresh_from_db()
    assert m.pinned
    entry = last_log(world)
    assert (entry.action, entry.actor, entry.message, entry.target_user) == ("message.pin", world.moderator, m, world.resident)
    with pytest.raises(Refused):
        moderation.message_pin(session=world.session, by=world.moderator, message_id=m.pk)
    moderation.message_pin(session=world.session, by=world.moderator, message_id=m.pk, pinned=False)
    m.refresh_from_db()
    assert not m.pinned and last_log(world).action == "message.unpin"


def test_hiding_keeps_the_message_with_its_reason_and_logs_why(world: World) -> None:
    m = post(world, "骂人的话")
    with pytest.raises(Refused) as no_reason:
        moderation.message_hide(session=world.session, by=world.moderator, message_id=m.pk, reason="  ")
    assert no_reason.value.code == "reason_required"
    moderation.message_hide(session=world.session, by=world.moderator, message_id=m.pk, reason="人身攻击")
    m.refresh_from_db()
    assert m.hidden and m.hidden_reason == "人身攻击" and m.hidden_by == world.moderator and m.hidden_at is not None
    assert Message.objects.filter(pk=m.pk, text_html="骂人的话").exists()  # never deleted
    entry = last_log(world)
    assert (entry.action, entry.reason, entry.message) == ("message.hide", "人身攻击", m)
    moderation.message_unhide(session=world.session, by=world.moderator, message_id=m.pk)
    m.refresh_from_db()
    assert not m.hidden and last_log(world).detail["hidden_reason"] == "人身攻击"
    assert AuditEvent.objects.filter(kind="meeting.message.hide", community=world.community).exists()


def test_hiding_announces_each_viewer_their_own_rendering(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    from sessions.live.rendering import render_variant

    m = post(world, "要隐藏的话")
    with mock.patch("agora.infra.broadcast.broadcast_now") as sent, django_capture_on_commit_callbacks(execute=True):
        moderation.message_hide(session=world.session, by=world.moderator, message_id=m.pk, reason="广告")
    events = {event["kind"]: (group, event) for group, event in (c.args for c in sent.call_args_list)}
    _group, event = events["message.updated"]
    assert event["payload"]["seq"] == m.seq
    # The author alone is told, with the reason, on their own group.
    author_group, own = events["message.hidden_own"]
    assert author_group == f"user.{world.resident.pk}" and own["payload"]["seq"] == m.seq
    own_html = render_variant(event_id=own["id"], template=own["template"], context=own["context"], language="zh-hans", role="participant")
    assert "广告" in own_html and "要隐藏的话" in own_html and "隐藏" in own_html
    resident_html = render_variant(
        event_id=event["id"], template=event["template"], context=event["context"], language="zh-hans", role="participant"
    )
    moderator_html = render_variant(
        event_id=event["id"], template=event["template"], context=event["context"], language="zh-hans", role="moderator"
    )
    assert resident_html.strip() == ""
    assert "要隐藏的话" in moderator_html and "广告" in moderator_html


def test_mute_and_unmute(world: World) -> None:
    services.hand_raise(session=world.session, user=world.resident)
    moderation.participant_mute(session=world.session, by=world.moderator, user_id=world.resident.pk, reason="刷屏")
    assert Participant.objects.get(session=world.session, user=world.resident).muted
    assert queue_names(world) == []  # a muted person's raised hand is withdrawn
    with pytest.raises(NotAllowed):
        session_services.message_post(session=world.session, author=world.resident, text="还能说吗")
    entry = last_log(world)
    assert (entry.action, entry.target_user, entry.reason) == ("participant.mute", world.resident, "刷屏")
    moderation.participant_mute(session=world.session, by=world.moderator, user_id=world.resident.pk, muted=False)
    session_services.message_post(session=world.session, author=world.resident, text="又能说了")
    assert last_log(world).action == "participant.unmute"


def test_moderators_cannot_be_muted_or_removed(world: World) -> None:
    with pytest.raises(Refused):
        moderation.participant_mute(session=world.session, by=world.moderator, user_id=world.moderator.pk)
    with pytest.raises(Refused):
        moderation.participant_remove(session=world.session, by=world.moderator, user_id=world.moderator.pk)
    with pytest.raises(Refused):  # not in the session at all
        moderation.participant_mute(session=world.session, by=world.moderator, user_id=world.other_resident.pk)
    assert not Participant.objects.exists() and not ModerationAction.objects.exists()


def test_removal_ends_the_turn_kicks_the_sockets_and_is_logged(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    from sessions import rules

    services.hand_raise(session=world.session, user=world.resident)
    services.floor_give(session=world.session, by=world.moderator)
    with mock.patch("agora.infra.broadcast.broadcast_now") as sent, django_capture_on_commit_callbacks(execute=True):
        moderation.participant_remove(session=world.session, by=world.moderator, user_id=world.resident.pk, reason="扰乱会场")
    groups = {call.args[0]: call.args[1] for call in sent.call_args_list}
    assert groups[f"user.{world.resident.pk}"] == {"type": "user.disconnect", "session_id": world.session.pk, "reason": "removed"}
    assert speaker(world) is None
    assert not rules.can_join_live(user=world.resident, session=world.session)
    assert (last_log(world).action, last_log(world).reason) == ("participant.remove", "扰乱会场")
    moderation.participant_restore(session=world.session, by=world.moderator, user_id=world.resident.pk)
    assert rules.can_join_live(user=world.resident, session=world.session)


def test_slow_mode_allows_one_message_per_interval_per_person(world: World) -> None:
    moderation.slow_mode_set(session=world.session, by=world.moderator, seconds=30)
    world.session.refresh_from_db()
    post(world, "第一条")
    with pytest.raises(Refused) as slow:
        post(world, "第二条太快")
    assert slow.value.code == "slow_mode" and "30" in str(slow.value)
    session_services.message_post(session=world.session, author=world.resident2, text="别人不受影响")
    session_services.message_post(session=world.session, author=world.moderator, text="主持人不受限")
    session_services.message_post(session=world.session, author=world.moderator, text="主持人再说")
    Message.objects.filter(author=world.resident).update(created_at=timezone.now() - timedelta(seconds=31))
    post(world, "等够了")
    assert last_log(world).action == "slow_mode.set" and last_log(world).detail == {"seconds": 30}
    with pytest.raises(Refused):
        moderation.slow_mode_set(session=world.session, by=world.moderator, seconds=3601)


def test_projector_link_rotation_invalidates_the_old_link(world: World) -> None:
    old = services.meeting_room_ensure(session=world.session).projector_token
    room = services.projector_link_rotate(session=world.session, by=world.moderator)
    assert room.projector_token != old and last_log(world).action == "projector.rotate"


def test_nobody_has_the_floor_once_the_session_is_adjourned(world: World) -> None:
    from sessions.meeting.selectors import floor_data

    services.hand_raise(session=world.session, user=world.resident)
    services.hand_raise(session=world.session, user=world.resident2)
    services.floor_give(session=world.session, by=world.moderator)
    session_services.topic_session_adjourn(session=world.session, by=world.moderator)
    data = floor_data(session=world.session)
    assert data["speaker"] is None and data["queue"] == []
