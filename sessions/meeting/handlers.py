"""WebSocket handlers of the meeting (docs/protocol.md). Thin: refuse what the connection may
not do, then run one command through the same table as the HTTP views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed
from sessions.live.registry import live_handler
from sessions.live.rendering import render_variant
from sessions.meeting import selectors
from sessions.meeting.attendance import ATTENDANCE_TEMPLATE
from sessions.meeting.commands import COMMANDS, command_run
from sessions.meeting.services import AGENDA_TEMPLATE, FLOOR_TEMPLATE, speaker_payload
from sessions.models import TopicSession

if TYPE_CHECKING:
    from sessions.consumers import SessionConsumer


def _make_handler(name: str) -> Any:
    async def handle(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
        assert consumer.ctx is not None
        await database_sync_to_async(command_run)(
            name=name, session_id=consumer.session_id, user=consumer.user, data=content, can_moderate=consumer.ctx.can_moderate
        )
        reply: dict[str, Any] = {"type": "meeting.ack", "request_type": name}
        client_id = content.get("client_id")
        if isinstance(client_id, str | int):
            reply["client_id"] = client_id
        return reply

    handle.__name__ = f"meeting_{name.replace('.', '_')}"
    return handle


for _name in COMMANDS:
    live_handler(_name)(_make_handler(_name))


def sync_frames(*, session_id: int, language: str, role: str) -> list[dict[str, Any]]:
    """The floor and the agenda as they are now, rendered for one viewer (after a (re)connect)."""
    session = TopicSession.objects.get(pk=session_id)
    floor = selectors.floor_data(session=session)
    agenda = selectors.agenda_data(session=session)
    return [
        {
            "type": "floor",
            "at": floor["at"],
            "speaker": speaker_payload(floor["speaker"]),
            "queue_user_ids": floor["queue_user_ids"],
            "queue_length": len(floor["queue"]),
            "html": render_variant(
                event_id=f"sync-floor-{floor['at']}", template=FLOOR_TEMPLATE, context={"floor": floor}, language=language, role=role
            ),
        },
        {
            "type": "agenda",
            "at": agenda["at"],
            "current_item_id": agenda["current"]["id"] if agenda["current"] else None,
            "html": render_variant(
                event_id=f"sync-agenda-{agenda['at']}",
                template=AGENDA_TEMPLATE,
                context={"agenda_data": agenda},
                language=language,
                role=role,
            ),
        },
    ]


@live_handler("meeting.sync")
async def meeting_sync(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    """After a (re)connect the client asks for the floor and the agenda it may have missed."""
    assert consumer.ctx is not None
    frames = await database_sync_to_async(sync_frames)(
        session_id=consumer.session_id, language=consumer.language, role=consumer.ctx.variant
    )
    for frame in frames[:-1]:
        await consumer.send_json(frame)
    return frames[-1]


def attendance_frame(*, session_id: int, language: str, role: str) -> dict[str, Any]:
    summary = selectors.attendance_summary(TopicSession.objects.get(pk=session_id))
    context = {"summary": {k: v for k, v in summary.items() if k != "in_person_user_ids"}}
    return {
        "type": "attendance",
        **{k: summary[k] for k in ("total", "online_only", "in_room", "both", "households")},
        "html": render_variant(
            event_id=f"attendance-{session_id}-{timezone.now().isoformat()}",
            template=ATTENDANCE_TEMPLATE,
            context=context,
            language=language,
            role=role,
        ),
    }


@live_handler("attendance.sync")
async def attendance_sync(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    """Moderators' attendance panel follows people joining online (asked for after presence frames)."""
    assert consumer.ctx is not None
    if not consumer.ctx.can_moderate:
        raise NotAllowed(_("Only a moderator of this session can do that."))
    return await database_sync_to_async(attendance_frame)(
        session_id=consumer.session_id, language=consumer.language, role=consumer.ctx.variant
    )
