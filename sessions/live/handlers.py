"""WebSocket handlers for the discussion itself (docs/protocol.md). Each checks permission
through the service it calls; none touches the ORM directly."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Literal, overload

from channels.db import database_sync_to_async
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import Refused
from sessions import selectors, services
from sessions.live import sources
from sessions.live.fanout import fanout_for
from sessions.live.presence import live_heartbeat
from sessions.live.registry import live_handler
from sessions.live.rendering import message_render_id, render_variant
from sessions.models import TopicSession

if TYPE_CHECKING:
    from sessions.consumers import SessionConsumer

log = logging.getLogger(__name__)

REPLAY_CHUNK = 500
MESSAGE_TEMPLATE = "sessions/partials/_message.html"


@overload
def _int_field(content: dict[str, Any], name: str, *, required: Literal[True] = ...) -> int: ...
@overload
def _int_field(content: dict[str, Any], name: str, *, required: bool) -> int | None: ...
def _int_field(content: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = content.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value < 2**63):
        raise Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": name}, code="bad_field")
    return value


def _session(session_id: int) -> TopicSession:
    return TopicSession.objects.get(pk=session_id)


def _replay(session_id: int, after_seq: int) -> list[dict[str, Any]]:
    return selectors.messages_after(session=_session(session_id), after_seq=after_seq, limit=REPLAY_CHUNK)


# Closed when ``hello`` fails (the database did not answer): the client reconnects and says
# hello again, instead of sitting on a socket that never syncs.
# A code of the application range: autobahn (under daphne) refuses to send 1011 from an
# application ("invalid close code"), so the close never reached the client.
CLOSE_HELLO_FAILED = 4503
TALLY_TEMPLATE = "voting/partials/_tally.html"


def _closes_on_failure(handler: Any) -> Any:
    @functools.wraps(handler)
    async def wrapped(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return await handler(consumer, content)
        except Refused:
            raise
        except Exception:
            log.exception("hello failed in session %s; closing so the client reconnects", consumer.session_id)
            await consumer.close(code=CLOSE_HELLO_FAILED)
            return None

    return wrapped


def _with_open_votes(handler: Any) -> Any:
    """After the replay, and before ``synced``: the tally of every open vote as it is now (a
    tally announced while this connection was away, or lost by the channel layer, is not
    replayed otherwise)."""

    @functools.wraps(handler)
    async def wrapped(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any] | None:
        reply = await handler(consumer, content)
        if reply is None or consumer.ctx is None:
            return reply
        language, variant = consumer.language, consumer.ctx.variant

        async def read() -> list[dict[str, Any]]:
            events = await database_sync_to_async(sources.open_tally_events)(session_id=consumer.session_id)
            return [
                {
                    "type": "tally",
                    **event["payload"],
                    "html": render_variant(
                        event_id=event["id"], template=TALLY_TEMPLATE, context=event["context"], language=language, role=variant
                    ),
                }
                for event in events
            ]

        fanout = fanout_for(consumer.session_id, consumer.channel_layer)
        for prepared in await fanout.vote_frames(language, variant, read):
            await consumer.send(text_data=prepared.text)
        return reply

    return wrapped


@live_handler("hello")
@_closes_on_failure
@_with_open_votes
async def hello(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    """Replay every message after ``last_seq`` from the database, then go live.

    Connections asking for the same history in the same language and variant share one
    read and one rendering while the room does not change (``SessionFanout.shared_replay``).
    """
    after = _int_field(content, "last_seq", required=False) or 0
    assert consumer.ctx is not None
    language, variant = consumer.language, consumer.ctx.variant

    async def read() -> list[dict[str, Any]]:
        return await _replay_frames(consumer.session_id, after, language, variant)

    fanout = fanout_for(consumer.session_id, consumer.channel_layer)
    frames = await fanout.shared_replay((after, language, variant), read)
    await consumer.send_replay(frames)
    return {"type": "synced", "last_seq": consumer.last_sent_seq}


async def _replay_frames(session_id: int, after: int, language: str, variant: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        chunk = await database_sync_to_async(_replay)(session_id, after)
        for data in chunk:
            frames.append(
                {
                    "type": "message",
                    "seq": data["seq"],
                    "id": data["id"],
                    "replayed": True,
                    "html": render_variant(
                        event_id=message_render_id(data),
                        template=MESSAGE_TEMPLATE,
                        context={"m": data},
                        language=language,
                        role=variant,
                    ),
                }
            )
        if len(chunk) < REPLAY_CHUNK:
            return frames
        after = chunk[-1]["seq"]


@live_handler("message.post")
async def message_post(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    text = content.get("text")
    if not isinstance(text, str):
        raise Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": "text"}, code="bad_field")
    reply_to = _int_field(content, "reply_to", required=False)
    key = content.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        raise Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": "idempotency_key"}, code="bad_key")

    def post() -> tuple[int, int, bool]:
        message = services.message_post(
            session=_session(consumer.session_id), author=consumer.user, text=text, reply_to_id=reply_to, idempotency_key=key
        )
        return message.pk, message.seq, message.replayed

    message_id, seq, replayed = await database_sync_to_async(post)()
    return {"type": "message.ack", "client_id": content.get("client_id"), "id": message_id, "seq": seq, "replayed": replayed}


@live_handler("reaction.set")
async def reaction_set(consumer: SessionConsumer, content: dict[str, Any]) -> None:
    message_id = _int_field(content, "message_id")
    kind = content.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise Refused(_("Unknown reaction."), code="invalid")

    def react() -> None:
        services.reaction_set(message_id=message_id, session=_session(consumer.session_id), user=consumer.user, kind=kind)

    await database_sync_to_async(react)()
    return None


@live_handler("ping")
async def ping(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    await database_sync_to_async(live_heartbeat)(channel_name=consumer.channel_name)
    return {"type": "pong"}
