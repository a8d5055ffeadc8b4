"""What the apps above the live room add to it, registered at app ready so that the room never
imports them (docs/architecture.md, "Import directions").

- ``open_tally_events(session_id)``: the tally event of every open vote, read now; a (re)syncing
  connection and a fan-out that lost announcements write them (voting registers it).
- ``open_vote_events(session_id)``: what a screen that starts showing the room needs of the open
  votes: question, options, count (voting registers it; the projector reads it).
- ``on_connect(session_id=, state=, user=)``: steps run in the admitting thread when a connection is
  admitted (the meeting registers its online attendance mark).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Events = Callable[..., list[dict[str, Any]]]

_tallies: list[Events] = []
_votes: list[Events] = []
_connect: list[Callable[..., None]] = []


def provide(*, open_tallies: Events | None = None, open_votes: Events | None = None, on_connect: Callable[..., None] | None = None) -> None:
    for hooks, hook in ((_tallies, open_tallies), (_votes, open_votes), (_connect, on_connect)):
        if hook is not None and hook not in hooks:
            hooks.append(hook)


def open_tally_events(*, session_id: int) -> list[dict[str, Any]]:
    return [event for source in _tallies for event in source(session_id=session_id)]


def open_vote_events(*, session_id: int) -> list[dict[str, Any]]:
    return [event for source in _votes for event in source(session_id=session_id)]


def connection_admitted(*, session_id: int, state: str, user: Any) -> None:
    for step in _connect:
        step(session_id=session_id, state=state, user=user)
