"""Reaction counts announced coalesced: at most one ``reaction`` frame per message per
``REACTION_INTERVAL`` seconds in each process, however many people react at once.

The first reaction after a quiet interval is announced at once with the counts its own
transaction read; a reaction inside the interval schedules one trailing announcement, which
reads the counts when it fires, so the last frame always shows every committed reaction. With
P processes a message gets at most P frames per interval (docs/protocol.md, "Limits").
"""

from __future__ import annotations

from django.db import transaction

from agora.infra.broadcast import broadcast_now
from agora.infra.coalesce import Coalescer
from sessions.events import live_event, session_group

REACTION_INTERVAL = 0.25
_reactions = Coalescer(lambda: REACTION_INTERVAL)


def reaction_counts(*, message_id: int) -> dict[str, int]:
    from sessions.models import Reaction

    counts = {"agree": 0, "disagree": 0}
    for kind in Reaction.objects.filter(message_id=message_id).values_list("kind", flat=True):
        counts[kind] += 1
    return counts


def _announce(session_id: int, message_id: int, counts: dict[str, int]) -> None:
    broadcast_now(session_group(session_id), live_event(kind="reaction", payload={"message_id": message_id, **counts}))


def reaction_announce_on_commit(*, session_id: int, message_id: int, counts: dict[str, int]) -> None:
    """Call inside the transaction that changed the reactions; ``counts`` as it read them."""
    transaction.on_commit(lambda: _throttled(session_id, message_id, counts))


def _throttled(session_id: int, message_id: int, counts: dict[str, int]) -> None:
    _reactions.submit(
        message_id,
        send_now=lambda: _announce(session_id, message_id, counts),
        send_later=lambda: _announce(session_id, message_id, reaction_counts(message_id=message_id)),
    )


def reactions_reset() -> None:
    """Forget every throttle (tests: message ids come again after a rollback)."""
    _reactions.reset()
