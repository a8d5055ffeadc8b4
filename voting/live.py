"""WebSocket handlers for votes (docs/protocol.md, "Votes"). Thin: parse, call one service.

Permission is checked inside each service; a refusal becomes an ``error`` frame.
Per-user state (may I vote, have I voted) is answered to the asker only, never broadcast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import Refused
from sessions.live.registry import live_handler
from voting import ballots, closing, rules, selectors, services
from voting.facts import VoterFacts, motion_with_facts
from voting.models import Motion

if TYPE_CHECKING:
    from sessions.consumers import SessionConsumer


def _motion_id(content: dict[str, Any]) -> int:
    value = content.get("motion_id")
    if isinstance(value, bool) or not isinstance(value, int) or not (0 < value < 2**63):
        raise Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": "motion_id"}, code="bad_field")
    return value


def _motion_and_facts(session_id: int, motion_id: int, user: Any) -> tuple[Motion, VoterFacts]:
    """The motion and what the rules know about the person, in one query (voting/facts.py)."""
    found = motion_with_facts(user=user, session_id=session_id, motion_id=motion_id)
    if found is None or not rules.can_see_motion(user=user, motion=found[0], facts=found[1]):
        raise Refused(_("That motion is not in this session."), code="not_found")
    return found


def _motion(session_id: int, motion_id: int, user: Any) -> Motion:
    return _motion_and_facts(session_id, motion_id, user)[0]


def _text_field(content: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = content.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": name}, code="bad_field")
    return value


@live_handler("ballot.cast")
async def ballot_cast(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    motion_id = _motion_id(content)
    key = _text_field(content, "idempotency_key", required=True)
    receipt = _text_field(content, "receipt", required=False)

    def cast() -> ballots.CastResult:
        motion, facts = _motion_and_facts(consumer.session_id, motion_id, consumer.user)
        return ballots.ballot_cast(
            motion=motion,
            facts=facts,
            voter=consumer.user,
            choice=content.get("choice"),
            idempotency_key=key or "",
            receipt=receipt,
        )

    # Off the process's one thread-sensitive database thread: ballots of a burst are stored side
    # by side (the motion row is shared-locked; voting/ballots.py), not one after another.
    result = await database_sync_to_async(cast, thread_sensitive=False)()
    return {
        "type": "ballot.receipt",
        "motion_id": motion_id,
        "receipt": result.receipt,
        "receipt_hash": result.receipt_hash,
        "changed": result.changed,
        "replayed": result.replayed,
        "client_id": content.get("client_id"),
    }


@live_handler("motion.open")
async def motion_open(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    motion_id = _motion_id(content)

    def open_() -> str:
        return services.motion_open(motion=_motion(consumer.session_id, motion_id, consumer.user), by=consumer.user).state

    state = await database_sync_to_async(open_)()
    return {"type": "motion.ack", "motion_id": motion_id, "state": state, "client_id": content.get("client_id")}


@live_handler("motion.close")
async def motion_close(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    motion_id = _motion_id(content)

    def close() -> str:
        return services.motion_close(motion=_motion(consumer.session_id, motion_id, consumer.user), by=consumer.user).outcome

    outcome = await database_sync_to_async(close)()
    return {"type": "motion.ack", "motion_id": motion_id, "state": "closed", "outcome": outcome, "client_id": content.get("client_id")}


@live_handler("motion.status")
async def motion_status(consumer: SessionConsumer, content: dict[str, Any]) -> dict[str, Any]:
    """This user's standing on a motion; also closes it lazily if its set time has passed."""
    motion_id = _motion_id(content)

    def status() -> dict[str, Any]:
        motion = _motion(consumer.session_id, motion_id, consumer.user)
        closing.motion_close_due(session_id=motion.session_id)
        motion.refresh_from_db()
        return {"state": motion.state, **selectors.my_standing(motion=motion, user=consumer.user)}

    data = await database_sync_to_async(status)()
    return {"type": "motion.status", "motion_id": motion_id, **data}
