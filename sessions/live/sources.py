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
from typing import Any, TypeVar

Events = Callable[..., list[dict[str, Any]]]

_tallies: list[Events] = []
_votes: list[Events] = []
_connect: list[Callable[..., None]] = []


Hook = TypeVar("Hook")


def _add(hooks: list[Hook], hook: Hook | None) -> None:
    if hook is not None and hook not in hooks:
        hooks.append(hook)


def provide(*, open_tallies: Events | None = None, open_votes: Events | None = None, on_connect: Callable[..., None] | None = None) -> None:
    _add(_tallies, open_tallies)
    _add(_votes, open_votes)
    _add(_connect, on_connect)


def open_tally_events(*, session_id: int) -> list[dict[str, Any]]:
    return [event for source in _tallies for event in source(session_id=session_id)]


def open_vote_events(*, session_id: int) -> list[dict[str, Any]]:
    return [event for source in _votes for event in source(session_id=session_id)]


def connection_admitted(*, session_id: int, state: str, user: Any) -> None:
    for step in _connect:
        step(session_id=session_id, state=state, user=user)
