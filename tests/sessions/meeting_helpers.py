"""A live meeting in full swing, and a fingerprint of everything a moderator action could change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from sessions import services as session_services
from sessions.meeting import attendance, moderation, services
from sessions.models import (
    AgendaItem,
    Attendance,
    FloorRequest,
    MeetingRoom,
    Message,
    ModerationAction,
    Participant,
    TopicSession,
)
from tests.factories import World, resident_make


@dataclass
class Meeting:
    world: World
    items: list[AgendaItem]
    waiting: FloorRequest
    message: Message
    pinned: Message
    hidden: Message
    muted: AbstractBaseUser
    removed: AbstractBaseUser
    checked_in: AbstractBaseUser


def meeting_make(world: World) -> Meeting:
    s, mod = world.session, world.moderator
    items = [AgendaItem.objects.create(session=s, position=i, title=f"议程{i}") for i in (1, 2, 3)]
    services.agenda_item_start(session=s, by=mod)
    services.hand_raise(session=s, user=world.resident2)
    services.floor_give(session=s, by=mod)
    waiting = services.floor_add(session=s, by=mod, name="张三")
    message = session_services.message_post(session=s, author=world.resident, text="普通发言")
    pinned = session_services.message_post(session=s, author=world.resident2, text="置顶的发言")
    hidden = session_services.message_post(session=s, author=world.resident2, text="被隐藏的发言")
    moderation.message_pin(session=s, by=mod, message_id=pinned.pk)
    moderation.message_hide(session=s, by=mod, message_id=hidden.pk, reason="广告")
    muted = resident_make(world.community, "res4", tags=[world.car_owner], building="4号楼")
    removed = resident_make(world.community, "res5", tags=[world.car_owner], building="4号楼")
    checked_in = resident_make(world.community, "res6", tags=[world.car_owner], building="5号楼")
    moderation.participant_mute(session=s, by=mod, user_id=muted.pk)
    moderation.participant_remove(session=s, by=mod, user_id=removed.pk)
    attendance.checkin_record(session=s, by=mod, user_ids=[checked_in.pk])
    return Meeting(world, items, waiting, message, pinned, hidden, muted, removed, checked_in)


def moderator_actions(m: Meeting) -> dict[str, dict[str, Any]]:
    """Every moderator-only command with a payload that succeeds when a moderator sends it."""
    w = m.world
    return {
        "floor.give": {"request_id": m.waiting.pk},
        "floor.take": {},
        "floor.add": {"name": "李四"},
        "floor.dismiss": {"request_id": m.waiting.pk},
        "floor.limit": {"seconds": 60},
        "agenda.next": {},
        "agenda.start": {"item_id": m.items[2].pk},
        "agenda.add": {"title": "新议程"},
        "message.pin": {"message_id": m.message.pk},
        "message.unpin": {"message_id": m.pinned.pk},
        "message.hide": {"message_id": m.message.pk, "reason": "不文明"},
        "message.unhide": {"message_id": m.hidden.pk},
        "participant.mute": {"user_id": w.resident2.pk},
        "participant.unmute": {"user_id": m.muted.pk},
        "participant.remove": {"user_id": w.resident2.pk},
        "participant.restore": {"user_id": m.removed.pk},
        "slow_mode.set": {"seconds": 30},
        "guests.set": {"count": 5},
        "checkin.record": {"user_ids": [w.resident2.pk]},
        "checkin.undo": {"user_id": m.checked_in.pk},
        "projector.rotate": {},
        "projector.show": {"screen": "join"},
        "projector.sound": {"sound": "1"},
    }


def fingerprint(session: TopicSession) -> dict[str, Any]:
    """Everything any meeting action changes, as plain comparable values."""
    return {
        "session": TopicSession.objects.filter(pk=session.pk).values("current_agenda_item_id", "slow_mode_seconds").get(),
        "agenda": list(AgendaItem.objects.filter(session=session).order_by("pk").values_list("pk", "state", "title")),
        "floor": list(FloorRequest.objects.filter(session=session).order_by("pk").values_list("pk", "state", "limit_seconds", "name")),
        "messages": list(Message.objects.filter(session=session).order_by("pk").values_list("pk", "pinned", "hidden", "hidden_reason")),
        "participants": list(Participant.objects.filter(session=session).order_by("pk").values_list("user_id", "muted", "removed")),
        "room": list(MeetingRoom.objects.filter(session=session).values_list("projector_token", "speaker_limit_seconds", "guests_in_room")),
        "attendance": list(Attendance.objects.filter(session=session).order_by("pk").values_list("user_id", "checked_in_at")),
        "log": ModerationAction.objects.filter(session=session).count(),
    }
