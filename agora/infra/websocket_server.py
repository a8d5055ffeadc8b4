"""Adjustments to the server process, measured in docs/performance.md.

What reaches into daphne, autobahn or Twisted (autobahn's per-connection debug line among it)
is in agora/infra/server_internals.py."""

from __future__ import annotations

import gc

# Allocations between young collections (CPython's default is 700). See gc_for_a_long_lived_server.
GC_YOUNG_THRESHOLD = 20_000


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
