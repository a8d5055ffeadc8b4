"""What the apps above the live room add to it, registered at app ready so that the room never
imports them (docs/architecture.md, "Import directions").

- ``open_tally_events(session_id)``: the tally event of every open vote, read now; a (re)syncing
  connection and a fan-out that lost announcements write them (voting registers it).
- ``open_vote_events(session_id)``: what a screen that starts showing the room needs of the open
  votes: question, options, count (voting registers it; the projector reads it).
- ``on_connect(session_id=, state=, user=)``: steps run in the admitting thread when a connection is
  admitted (the meeting registers its online attendance mark).
- ``open_votes_count(session_id=)`` and ``open_votes_close(session_id=, by=)``: how many votes are
  open, and closing them all (voting registers them; adjourning asks and may close them first).
- ``screen_result(session_id=, motion_id=)``: the closed vote's result as a room event for the big
  screen, or None when the session has no such result (voting registers it; the projector shows it).
- ``console_facts(session_id=)``: what the apps above add to the moderator's next step (records:
  whether the minutes are drafted or published).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Events = Callable[..., list[dict[str, Any]]]

_tallies: list[Events] = []
_votes: list[Events] = []
_connect: list[Callable[..., None]] = []
_vote_counts: list[Callable[..., int]] = []
_vote_closers: list[Callable[..., int]] = []
_screen_results: list[Callable[..., dict[str, Any] | None]] = []
_console_facts: list[Callable[..., dict[str, Any]]] = []


Hook = TypeVar("Hook")


def _add(hooks: list[Hook], hook: Hook | None) -> None:
    if hook is not None and hook not in hooks:
        hooks.append(hook)


def provide(
    *,
    open_tallies: Events | None = None,
    open_votes: Events | None = None,
    on_connect: Callable[..., None] | None = None,
    votes_count: Callable[..., int] | None = None,
    votes_close: Callable[..., int] | None = None,
    screen_result: Callable[..., dict[str, Any] | None] | None = None,
    console_facts: Callable[..., dict[str, Any]] | None = None,
) -> None:
    _add(_tallies, open_tallies)
    _add(_votes, open_votes)
    _add(_connect, on_connect)
    _add(_vote_counts, votes_count)
    _add(_vote_closers, votes_close)
    _add(_screen_results, screen_result)
    _add(_console_facts, console_facts)


def open_votes_count(*, session_id: int) -> int:
    return sum(source(session_id=session_id) for source in _vote_counts)


def open_votes_close(*, session_id: int, by: Any) -> int:
    """Close every open vote of the session (each with its result); how many were closed."""
    return sum(close(session_id=session_id, by=by) for close in _vote_closers)


def screen_result(*, session_id: int, motion_id: int) -> dict[str, Any] | None:
    for source in _screen_results:
        event = source(session_id=session_id, motion_id=motion_id)
        if event is not None:
            return event
    return None


def console_facts(*, session_id: int) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for source in _console_facts:
        facts.update(source(session_id=session_id))
    return facts


def open_tally_events(*, session_id: int) -> list[dict[str, Any]]:
    return [event for source in _tallies for event in source(session_id=session_id)]


def open_vote_events(*, session_id: int) -> list[dict[str, Any]]:
    return [event for source in _votes for event in source(session_id=session_id)]


def connection_admitted(*, session_id: int, state: str, user: Any) -> None:
    for step in _connect:
        step(session_id=session_id, state=state, user=user)
