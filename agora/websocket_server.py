"""Adjustments to the WebSocket server stack (daphne → autobahn), measured in docs/performance.md."""

from __future__ import annotations

import pprint
from typing import Any


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
