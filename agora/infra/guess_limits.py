"""Limits on guessing a secret (a code typed or scanned): wrong tries count against the account
and the address they came from, in fixed windows; one that reaches its limit is paused.

The pattern of ``sessions/meeting/guesses.py`` (join codes), made generic: a ``GuessLimit`` names
its counters, so invitation codes and join codes count apart. While paused, every try, right or
wrong, is refused (a right one answered during the pause would tell a guesser it was right).
Counts live in the ``limits`` cache (Redis when ``REDIS_URL`` is set, so every process counts
together). If the cache does not answer, guesses are not counted rather than everyone refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.cache import caches

log = logging.getLogger(__name__)

_generation = 0  # part of every key: tests start again by changing it (a shared Redis is never flushed)


@dataclass(frozen=True)
class GuessLimit:
    name: str
    per_account: int
    per_address: int
    window_seconds: int = 60
    pause_seconds: int = 300

    def _keys(self, kind: str, *, address: str, user_id: int | None) -> list[tuple[str, int]]:
        keys = [(f"guess:{self.name}:{_generation}:{kind}:a:{address}", self.per_address)]
        if user_id is not None:
            keys.append((f"guess:{self.name}:{_generation}:{kind}:u:{user_id}", self.per_account))
        return keys

    def paused(self, *, address: str, user_id: int | None = None) -> bool:
        """True while this address or account may not try."""
        try:
            return bool(caches["limits"].get_many([key for key, _limit in self._keys("pause", address=address, user_id=user_id)]))
        except Exception:
            log.warning("%s guesses not checked: the limits cache did not answer", self.name, exc_info=True)
            return False

    def failed(self, *, address: str, user_id: int | None = None) -> None:
        """Count one wrong try; pause the address or account that reached its limit."""
        cache = caches["limits"]
        try:
            pairs = zip(
                self._keys("wrong", address=address, user_id=user_id), self._keys("pause", address=address, user_id=user_id), strict=True
            )
            for (key, limit), (pause_key, _limit) in pairs:
                cache.add(key, 0, timeout=self.window_seconds)
                try:
                    count = cache.incr(key)
                except ValueError:  # the window ended between the two calls
                    cache.set(key, count := 1, timeout=self.window_seconds)
                if count >= limit:
                    cache.set(pause_key, 1, timeout=self.pause_seconds)
        except Exception:
            log.warning("a wrong %s guess not counted: the limits cache did not answer", self.name, exc_info=True)


def guess_limits_reset() -> None:
    """Forget every count and pause (tests)."""
    global _generation
    _generation += 1
