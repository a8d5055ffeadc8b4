"""Attendance: each person once, online or in the room or both; by building; households counted."""

from __future__ import annotations

import pytest
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import Resident
from sessions.meeting import attendance, moderation, services
from sessions.meeting.selectors import attendance_summary
from sessions.models import Attendance, ModerationAction, Presence, SessionState
from tests.factories import World, resident_make

pytestmark = pytest.mark.django_db


def online(world: World, user) -> None:  # type: ignore[no-untyped-def]
    attendance.attendance_online_mark(session_id=world.session.pk, state=world.session.state, user=user)


def test_the_same_resident_online_and_checked_in_counts_once(world: World) -> None:
    online(world, world.resident)
    online(world, world.resident)  # reconnects do not count twice
    attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident.pk])
    s = attendance_summary(world.session)
    assert (s["total"], s["online"], s["in_room"], s["both"], s["online_only"], s["in_room_only"]) == (1, 1, 1, 1, 0, 0)
    assert s["households"] == 1 and s["in_person_user_ids"] == [world.resident.pk]
    assert Attendance.objects.count() == 1


def test_a_connection_open_now_counts_as_online_too(world: World) -> None:
    Presence.objects.create(session=world.session, user=world.resident2, channel_name="c1", last_seen=timezone.now())
    Presence.objects.create(session=world.session, user=world.resident2, channel_name="c2", last_seen=timezone.now())
    s = attendance_summary(world.session)
    assert (s["total"], s["online_only"]) == (1, 1)


def test_households_and_buildings_are_counted_right(world: World) -> None:
    household = Resident.objects.get(user=world.resident).household
    spouse = resident_make(world.community, "res1b", tags=[world.car_owner], household=household)
    neighbour = resident_make(world.community, "res7", tags=[world.car_owner], building="1号楼")
    online(world, world.resident)  # 1号楼, household A, online
    attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[spouse.pk, neighbour.pk])  # A and B in the room
    online(world, world.resident2)  # 2号楼, online
    attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident2.pk])  # … and in the room
    online(world, world.moderator)  # staff, online
    attendance.guests_set(session=world.session, by=world.moderator, count=3)
    s = attendance_summary(world.session)
    assert s["people"] == 5 and s["total"] == 8 and s["guests"] == 3
    assert s["households"] == 3  # A (two people), B, and resident2's household
    assert (s["online_only"], s["in_room_only"], s["both"]) == (2, 2, 1)
    assert s["in_room"] == 3 + 3  # three checked in + three guests
    rows = {r["building"]: r for r in s["by_building"]}
    assert rows["1号楼"] == {"building": "1号楼", "people": 3, "online_only": 1, "in_room_only": 2, "both": 0, "households": 2}
    assert rows["2号楼"] == {"building": "2号楼", "people": 1, "online_only": 0, "in_room_only": 0, "both": 1, "households": 1}
    assert rows[""]["people"] == 1 and rows[""]["households"] == 0
    assert [r["building"] for r in s["by_building"]] == ["1号楼", "2号楼", ""]
    assert sorted(s["in_person_user_ids"]) == sorted([spouse.pk, neighbour.pk, world.resident2.pk])


def test_online_attendance_is_recorded_only_while_live(world: World) -> None:
    world.session.state = SessionState.SCHEDULED
    world.session.save()
    online(world, world.resident)
    assert not Attendance.objects.exists()


def test_online_keeps_the_first_join_and_fills_a_door_check_in(world: World) -> None:
    online(world, world.resident)
    first = Attendance.objects.get(user=world.resident).online_at
    online(world, world.resident)  # a reconnect
    assert Attendance.objects.get(user=world.resident).online_at == first
    attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident2.pk])
    assert Attendance.objects.get(user=world.resident2).online_at is None
    online(world, world.resident2)  # checked in at the door, then joined online too
    row = Attendance.objects.get(user=world.resident2)
    assert row.online_at is not None and row.checked_in_at is not None
    assert Attendance.objects.count() == 2


def test_checking_in_twice_records_once_and_logs_once(world: World) -> None:
    assert attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident.pk]) == [world.resident.pk]
    assert attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident.pk]) == []
    assert ModerationAction.objects.filter(action="checkin.record").count() == 1
    attendance.checkin_undo(session=world.session, by=world.moderator, user_id=world.resident.pk)
    assert attendance_summary(world.session)["total"] == 0
    with pytest.raises(Refused):
        attendance.checkin_undo(session=world.session, by=world.moderator, user_id=world.resident.pk)


def test_who_can_be_checked_in(world: World) -> None:
    with pytest.raises(Refused):  # another community's resident
        attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.other_resident.pk])
    attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.observer.pk])  # invited observer
    moderation.participant_remove(session=world.session, by=world.moderator, user_id=world.resident2.pk)
    with pytest.raises(Refused) as removed:
        attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident2.pk])
    assert removed.value.code == "removed"
    with pytest.raises(NotAllowed):
        attendance.checkin_record(session=world.session, by=world.resident, user_ids=[world.resident.pk])
    assert list(Attendance.objects.values_list("user_id", flat=True)) == [world.observer.pk]


def test_self_check_in_needs_the_rooms_code_and_the_audience(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    with pytest.raises(NotAllowed):
        attendance.checkin_self(session=world.session, user=world.resident, token="guess")
    with pytest.raises(NotAllowed):
        attendance.checkin_self(session=world.session, user=world.outsider, token=room.checkin_token)
    assert attendance.checkin_self(session=world.session, user=world.resident, token=room.checkin_token) is True
    assert attendance.checkin_self(session=world.session, user=world.resident, token=room.checkin_token) is False
    world.session.state = SessionState.ADJOURNED
    world.session.save()
    with pytest.raises(NotAllowed):
        attendance.checkin_self(session=world.session, user=world.resident2, token=room.checkin_token)
    assert Attendance.objects.get().check_in_method == "self"


def test_the_minutes_read_in_person_ids_from_the_summary(world: World) -> None:
    from records.content import attendance as minutes_attendance

    online(world, world.resident)
    attendance.checkin_record(session=world.session, by=world.moderator, user_ids=[world.resident.pk, world.resident2.pk])
    attendance.guests_set(session=world.session, by=world.moderator, count=2)
    result = minutes_attendance(session=world.session)
    assert result["in_person"] == 4 and result["in_person_source"] == "check_in"
