"""Adjustments to the WebSocket server stack (daphne → autobahn), measured in docs/performance.md."""

from __future__ import annotations

import gc
import pprint
from typing import Any

# Allocations between young collections (CPython's default is 700). See gc_for_a_long_lived_server.
GC_YOUNG_THRESHOLD = 20_000


class _FormattedWhenLogged:
    """``pprint.pformat(obj)``, computed only if a log line is actually written."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __str__(self) -> str:
        return pprint.pformat(self.obj)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def autobahn_lazy_connection_log() -> None:
    """autobahn pretty-prints its whole configuration for a debug log line on every new
    connection, also when debug logging is off: ~6 % of the server's CPU in a connect storm of
    1,000 (py-spy). Format it only when the line is written."""
    try:
        from autobahn.websocket import protocol
    except ImportError:  # another server: nothing to adjust
        return
    if getattr(protocol, "pformat", None) is not pprint.pformat or not hasattr(protocol, "Timings"):
        return  # another autobahn than the one measured: leave it alone
    protocol.pformat = _FormattedWhenLogged  # type: ignore[attr-defined]
    # The module's one other pformat call must still return a str.
    protocol.Timings.__str__ = lambda self: pprint.pformat(self._timings)  # type: ignore[method-assign]


def gc_for_a_long_lived_server() -> None:
    """Fewer and shorter pauses of Python's cycle collector in a process holding 2,000 sockets.

    A full collection stops every connection of the process while it scans every tracked object:
    with 2,000 live connections it measured 140–370 ms (gc.callbacks, run during the benchmark),
    the long tail of one message's delivery. Objects created while loading Django live as long as
    the process, so they are moved out of the collector's sight (``gc.freeze``); and young
    collections run every 20,000 allocations instead of 700, so the older generations, and the
    full collections they lead to, come around less often. Reference counting still frees
    everything that is not in a cycle at once; cycles are freed later, not never.
    """
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
