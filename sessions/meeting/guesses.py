"""Join-code guessing: a join code is 6 letters and digits, so it must not be tried at 100 a second.

A wrong code (unknown, or a session of another community, which answers exactly like an unknown
one) counts against the account and against the address it came from, in fixed one-minute
windows. After ``WRONG_PER_ACCOUNT`` wrong codes in a minute the account, and after
``WRONG_PER_ADDRESS`` the address, is paused for ``PAUSE_SECONDS``: every code, right or wrong, is
then refused with a sentence (a right one answered during the pause would still tell a guesser
it was right). The address allows more than the account: neighbours in the meeting hall share one
Wi-Fi address, and their typos add up.

Counts live in the ``limits`` cache (settings: Redis when ``REDIS_URL`` is set, so every process
counts together; this process's memory otherwise). If the cache does not answer, guessing is not
counted rather than joining refused (docs/decisions.md, "Floods").
"""

from __future__ import annotations

import logging

from django.core.cache import caches

log = logging.getLogger(__name__)

WRONG_PER_ACCOUNT = 10
WRONG_PER_ADDRESS = 30
WINDOW_SECONDS = 60
PAUSE_SECONDS = 300

_generation = 0  # part of every key: tests start again by changing it (a shared Redis is never flushed)


def _keys(kind: str, *, address: str, user_id: int | None) -> list[tuple[str, int]]:
    keys = [(f"joinguess:{_generation}:{kind}:a:{address}", WRONG_PER_ADDRESS)]
    if user_id is not None:
        keys.append((f"joinguess:{_generation}:{kind}:u:{user_id}", WRONG_PER_ACCOUNT))
    return keys


def join_guess_paused(*, address: str, user_id: int | None) -> bool:
    """True while this address or account may not try join codes."""
    try:
        paused = caches["limits"].get_many([key for key, _limit in _keys("pause", address=address, user_id=user_id)])
    except Exception:
        log.warning("join-code limits not checked: the limits cache did not answer", exc_info=True)
        return False
    return bool(paused)


def join_guess_failed(*, address: str, user_id: int | None) -> None:
    """Count one wrong code; pause the address or account that reached its limit."""
    cache = caches["limits"]
    try:
        for (key, limit), (pause_key, _limit) in zip(
            _keys("wrong", address=address, user_id=user_id), _keys("pause", address=address, user_id=user_id), strict=True
        ):
            cache.add(key, 0, timeout=WINDOW_SECONDS)
            try:
                count = cache.incr(key)
            except ValueError:  # the window ended between the two calls
                cache.set(key, count := 1, timeout=WINDOW_SECONDS)
            if count >= limit:
                cache.set(pause_key, 1, timeout=PAUSE_SECONDS)
    except Exception:
        log.warning("a wrong join code not counted: the limits cache did not answer", exc_info=True)


def join_guesses_reset() -> None:
    """Forget every count and pause (tests)."""
    global _generation
    _generation += 1
