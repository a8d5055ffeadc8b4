"""The table of WebSocket message handlers (STYLE: dispatch through a table, permission first).

Apps register handlers by message type; ``sessions.consumers.SessionConsumer`` looks
them up. A handler receives the consumer and the decoded JSON object and returns a
frame to send back to the sender (or None). It raises ``agora.errors.Refused`` to refuse:
the consumer turns that into an ``error`` frame in the user's language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
