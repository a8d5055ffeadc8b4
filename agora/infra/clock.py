"""The time the decision lifecycle and the job runner go by: ``timezone.now()``, plus an offset
that only a test clock sets.

An owners' decision runs over weeks (a 15-day notice, a 7–30-day period, a 3-day objection
window). A browser test cannot wait that long, and it drives a real server in another process,
so patching time in the test process would not reach it. With ``AGORA_TEST_CLOCK_FILE`` set (the
test's servers only; never in production), the file holds a number of seconds that every
process adds to the real time: the test moves it forward and the server's jobs fire as if days
had passed. Without the setting this is ``timezone.now()``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

_cache: dict[str, tuple[float, float]] = {}


def _offset_seconds() -> float:
    path = getattr(settings, "AGORA_TEST_CLOCK_FILE", "") or ""
    if not path:
        return 0.0
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return 0.0
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as f:
            value = float(f.read().strip() or 0)
    except (OSError, ValueError):
        value = 0.0
    _cache[path] = (mtime, value)
    return value


def now() -> datetime:
    offset = _offset_seconds()
    current = timezone.now()
    return current + timedelta(seconds=offset) if offset else current


def advance(seconds: float) -> None:
    """Test clocks only: move the shared clock forward (written to ``AGORA_TEST_CLOCK_FILE``)."""
    path = getattr(settings, "AGORA_TEST_CLOCK_FILE", "") or ""
    if not path:
        raise RuntimeError("AGORA_TEST_CLOCK_FILE is not set: only a test clock can be moved")
    total = _offset_seconds() + seconds
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(repr(total))
    os.replace(tmp, path)
    _cache.pop(path, None)
