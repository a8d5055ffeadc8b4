"""The table of WebSocket message handlers (STYLE: dispatch through a table, permission first).

Apps register handlers by message type; ``sessions.consumers.SessionConsumer`` looks
them up. A handler receives the consumer and the decoded JSON object and returns a
frame to send back to the sender (or None). It raises ``agora.infra.errors.Refused`` to refuse:
the consumer turns that into an ``error`` frame in the user's language.

Every message type also has a rate (``RATES``, ``DEFAULT_RATE`` for the rest): a token bucket
per (user, message type) in this process's memory. A frame beyond it is refused before its
handler runs, so it changes nothing and costs no database work (docs/protocol.md, "Limits").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessions.consumers import SessionConsumer

Handler = Callable[["SessionConsumer", dict[str, Any]], Awaitable[dict[str, Any] | None]]

HANDLERS: dict[str, Handler] = {}


def live_handler(message_type: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if message_type in HANDLERS:
            raise RuntimeError(f"two handlers for {message_type!r}")
        HANDLERS[message_type] = func
        return func

    return register


@dataclass(frozen=True)
class Rate:
    """``burst`` frames at once, then ``per_second`` on average (per user, per message type)."""

    burst: int
    per_second: float


# Bursts are at least the socket cap (sessions/consumers.py, 10 a user): every tab of one
# person reconnecting at once sends its hello, ping and meeting.sync without a refusal.
DEFAULT_RATE = Rate(burst=20, per_second=2.0)
RATES: dict[str, Rate] = {
    "hello": Rate(burst=20, per_second=0.5),  # a replay reads and renders the history
    # One every 25 s per connection; clients and tests also send one as a marker after requests.
    "ping": Rate(burst=60, per_second=2.0),
    "message.post": Rate(burst=10, per_second=1.0),  # the service's own limit (5 in 10 s) is stricter
    "reaction.set": Rate(burst=20, per_second=2.0),
    "hand.raise": Rate(burst=5, per_second=0.5),
    "hand.lower": Rate(burst=5, per_second=0.5),
    "ballot.cast": Rate(burst=10, per_second=1.0),
    "meeting.sync": Rate(burst=20, per_second=0.5),
    "checkin.record": Rate(burst=30, per_second=5.0),  # the door desk checks people in quickly
    "checkin.undo": Rate(burst=30, per_second=5.0),
}

_PRUNE_EVERY = 4096
_buckets: dict[tuple[int, str], tuple[float, float]] = {}  # (user id, type) → (tokens, at)
_calls = 0


def rate_of(message_type: str) -> Rate:
    return RATES.get(message_type, DEFAULT_RATE)


def rate_allowed(*, user_id: int, message_type: str, now: float | None = None) -> bool:
    """Take one token from the user's bucket for this message type; False when it is empty.

    Only types with a handler get a bucket (an unknown type cannot grow the table)."""
    global _calls
    rate = rate_of(message_type)
    now = time.monotonic() if now is None else now
    key = (user_id, message_type)
    tokens, at = _buckets.get(key, (float(rate.burst), now))
    tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
    allowed = tokens >= 1.0
    _buckets[key] = (tokens - 1.0 if allowed else tokens, now)
    _calls += 1
    if _calls % _PRUNE_EVERY == 0:
        _prune(now)
    return allowed


def _prune(now: float) -> None:
    """Forget buckets that have filled up again: they behave exactly like a new one."""
    for key, (tokens, at) in list(_buckets.items()):
        rate = rate_of(key[1])
        if tokens + (now - at) * rate.per_second >= rate.burst:
            del _buckets[key]


def rates_reset() -> None:
    """Empty every bucket (tests: a database rolled back after each test gives ids again)."""
    _buckets.clear()
