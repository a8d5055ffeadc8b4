"""The fence: every reach into daphne's, autobahn's and Twisted's internals, in one module.

The live room writes each frame, framed once, straight to the sockets of a room of 2,000
(docs/decisions.md, "Live path"). That needs things none of the three libraries promise: the
autobahn protocol behind daphne's ASGI ``send`` (daphne passes
``functools.partial(Server.handle_reply, protocol)``), autobahn's ``send_queue``, ``state``,
``logOctets``, ``trafficStats`` and prepared messages (``payloadHybi``), and Twisted's TCP
transport's write buffer (``dataBuffer``, ``offset``, ``_tempDataLen``) and socket. The server
also patches autobahn's module ``pformat`` (a debug line formatted on every connect) and runs
daphne with a server class whose access log hides secrets (``log_action``).

Nothing else in Agora touches those libraries. The versions this was written and measured for
are :data:`WRITTEN_FOR`, pinned in requirements.txt. :func:`check` (once, at start: agora/asgi.py)
verifies that every attribute used is there; if one is missing it logs a warning and the live room
takes the plain path (the consumer's ASGI ``send``): slower, never wrong. A version other than the
pinned one is logged too. ``tests/agora/test_server_internals.py`` fails when a real daphne does not
write frames by the fast path.

The API:

- :func:`check` — the self-check (cached); :func:`install` — the check and the ``pformat`` patch.
- :func:`connection` — the :class:`DaphneConnection` behind an ASGI ``send``, or None (another
  server, or the check failed): ``write`` (a frame now, or the connection dropped past
  ``max_owed``), ``is_open``, ``owed``, ``prepare``, ``abort``, ``set_send_buffer``, and
  ``watched`` (whether the write buffer can be read).
- :func:`fast_path_used` — whether a frame has been handed to a socket directly in this process
  (logged once, at INFO, the first time).
- :class:`AccessLogServer` / :func:`run_daphne` / :func:`before_shutdown` — daphne's command line
  with Agora's server class, and the reactor's start and shutdown hooks.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import pprint
import socket
import sys
from collections.abc import Callable, Coroutine
from importlib import metadata
from typing import Any, Protocol

log = logging.getLogger(__name__)

# The versions the fence was written for and the fast path measured with (docs/performance.md).
# Keep them equal to requirements.txt's pins; a new version is checked by `check()` at start, but
# its speed only by the benchmark.
WRITTEN_FOR = {
    "daphne": "4.2.3",
    "autobahn": "26.11.1",
    "Twisted": "26.10.0",
    "txaio": "26.6.1",
}

# What the fast path reads or calls, per class (checked by `check`). Instance attributes that exist
# only on an open connection are checked per connection (`connection`).
_AUTOBAHN_PROTOCOL = ("STATE_OPEN", "sendPreparedMessage", "sendData", "_connectionMade")
_AUTOBAHN_FACTORY = ("prepareMessage",)
_TWISTED_CONNECTION = ("dataBuffer", "offset", "abortConnection", "getHandle", "write")
_DAPHNE_SERVER = ("handle_reply", "log_action")
_PROTOCOL_PER_CONNECTION = ("state", "send_queue", "logOctets", "trafficStats", "factory")
_TRANSPORT_PER_CONNECTION = ("dataBuffer", "_tempDataLen", "abortConnection")

_checked: bool | None = None
_fast_path_used = False


def check() -> bool:
    """Whether the installed libraries have everything the fast path uses (checked once).

    A missing attribute is logged as a warning, once, and the live room uses the plain path.
    """
    global _checked
    if _checked is None:
        problems = _problems()
        for problem in problems:
            log.warning("live fast path off: %s (written for %s)", problem, _written_for())
        _checked = not problems
        if _checked:
            for name, expected in WRITTEN_FOR.items():
                installed = _version(name)
                if installed != expected:
                    log.warning(
                        "live fast path: %s %s is installed, written and measured for %s: re-run the benchmark and update agora/infra/server_internals.py",
                        name,
                        installed,
                        expected,
                    )
    return _checked


def _written_for() -> str:
    return ", ".join(f"{name} {version}" for name, version in WRITTEN_FOR.items())


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _problems() -> list[str]:
    try:
        from autobahn.websocket import protocol as ws
        from twisted.internet import abstract, tcp
    except ImportError as exc:
        return [f"cannot import {exc.name}"]
    problems = [f"autobahn WebSocketProtocol.{name} is missing" for name in _AUTOBAHN_PROTOCOL if not hasattr(ws.WebSocketProtocol, name)]
    problems += [f"autobahn WebSocketFactory.{name} is missing" for name in _AUTOBAHN_FACTORY if not hasattr(ws.WebSocketFactory, name)]
    problems += [f"Twisted tcp.Connection.{name} is missing" for name in _TWISTED_CONNECTION if not hasattr(tcp.Connection, name)]
    try:
        prepared = ws.PreparedMessage(b"{}", False, False, True)
        if not isinstance(prepared.payloadHybi, bytes):
            problems.append("autobahn PreparedMessage.payloadHybi is not bytes")
    except Exception as exc:  # noqa: BLE001 (any change of its signature or fields)
        problems.append(f"autobahn PreparedMessage changed ({exc!r})")
    try:
        if not hasattr(ws.TrafficStats(), "outgoingOctetsWireLevel"):
            problems.append("autobahn TrafficStats.outgoingOctetsWireLevel is missing")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"autobahn TrafficStats changed ({exc!r})")
    descriptor = abstract.FileDescriptor(reactor=_NoReactor())  # type: ignore[arg-type]
    if not hasattr(descriptor, "_tempDataLen"):
        problems.append("Twisted FileDescriptor._tempDataLen is missing")
    # daphne is checked where it runs (it installs its reactor when imported: never import it here).
    daphne_server = sys.modules.get("daphne.server")
    if daphne_server is not None:
        problems += [f"daphne Server.{name} is missing" for name in _DAPHNE_SERVER if not hasattr(daphne_server.Server, name)]
    return problems


class _NoReactor:
    """A stand-in so a Twisted FileDescriptor can be built without touching the global reactor."""

    def __bool__(self) -> bool:
        return True


# --- autobahn's per-connection debug line ------------------------------------------------------


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
        log.warning("autobahn's module pformat is not the one measured (written for autobahn %s): left alone", WRITTEN_FOR["autobahn"])
        return
    protocol.pformat = _FormattedWhenLogged  # type: ignore[assignment]
    # The module's one other pformat call must still return a str.
    protocol.Timings.__str__ = lambda self: pprint.pformat(self._timings)  # type: ignore[method-assign]


def install() -> None:
    """At start (agora/asgi.py): the self-check, and autobahn's debug line made lazy."""
    check()
    autobahn_lazy_connection_log()


# --- one connection ------------------------------------------------------------------------------


class Prepared(Protocol):
    """A frame framed once for every connection (``sessions.live.fanout.PreparedFrame``)."""

    def prepared(self, connection: DaphneConnection) -> Any: ...


class DaphneConnection:
    """One WebSocket connection under daphne: autobahn's protocol and, when it can be watched,
    Twisted's TCP transport under it."""

    __slots__ = ("direct", "max_owed", "on_too_slow", "protocol", "tcp")

    def __init__(self, protocol: Any, tcp: Any | None, max_owed: int, on_too_slow: Callable[[int], None]) -> None:
        self.protocol = protocol
        self.tcp = tcp
        self.max_owed = max_owed
        self.on_too_slow = on_too_slow
        # Frames may go straight to the socket on plain TCP (not TLS) without octet logging
        # (prepared frames are never compressed: ``prepare``).
        self.direct = (
            tcp is not None and not getattr(tcp, "TLS", False) and hasattr(tcp, "socket") and not getattr(protocol, "logOctets", True)
        )

    @property
    def watched(self) -> bool:
        """Whether the bytes this connection owes can be read (``owed``)."""
        return self.tcp is not None

    def is_open(self) -> bool:
        protocol = self.protocol
        return bool(protocol.state == protocol.STATE_OPEN)

    def prepare(self, payload: bytes) -> Any:
        """``payload`` framed once, for every connection of this server (never compressed)."""
        return self.protocol.factory.prepareMessage(payload, False, True)

    def owed(self) -> int | None:
        """Bytes written to this connection that the peer has not taken yet (None: unknown)."""
        tcp = self.tcp
        if tcp is None:
            return None
        return len(tcp.dataBuffer) - tcp.offset + tcp._tempDataLen

    def write(self, frame: Prepared) -> bool:
        """Write ``frame`` now; always True (written, or nothing more to send).

        A connection that owes more than ``max_owed`` bytes is dropped instead, after
        ``on_too_slow(owed)``. A closing one gets nothing more (the disconnect handler cleans up).
        Runs for every frame to every connection: kept to one call.
        """
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return True
        tcp = self.tcp
        if tcp is None:
            protocol.sendPreparedMessage(frame.prepared(self))
            return True
        owed = len(tcp.dataBuffer) - tcp.offset + tcp._tempDataLen
        if owed > self.max_owed:
            self.on_too_slow(owed)
            tcp.abortConnection()
            return True
        if owed or not self.direct or protocol.send_queue:
            protocol.sendPreparedMessage(frame.prepared(self))
            return True
        # Nothing is queued: hand the frame to the kernel now. Through transport.write it would
        # wait for the next loop turn and cost two epoll changes (register, unregister) per
        # frame per connection; whatever the kernel does not take goes the usual way.
        data = frame.prepared(self).payloadHybi
        try:
            sent = tcp.socket.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # the peer is gone: let Twisted find out and close it
            sent = 0
        if sent < len(data):
            tcp.write(data[sent:])
        protocol.trafficStats.outgoingOctetsWireLevel += len(data)
        if not _fast_path_used:
            _note_fast_path()
        return True

    def abort(self) -> None:
        """Drop the connection now, whatever it still owes (the client reconnects); only a
        watched connection can be dropped."""
        if self.tcp is not None:
            self.tcp.abortConnection()

    def set_send_buffer(self, size: int) -> None:
        """Fix the kernel's send buffer of this socket (autotuning would let a stalled reader
        hold up to 4 MiB of kernel memory)."""
        if self.tcp is None or size <= 0:
            return
        with contextlib.suppress(AttributeError, OSError):  # the client is already gone; disconnect follows
            self.tcp.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


def _note_fast_path() -> None:
    global _fast_path_used
    _fast_path_used = True
    log.info("live fast path in use: frames are written straight to the socket (%s)", _written_for())


def fast_path_used() -> bool:
    """Whether this process has written a frame straight to a socket."""
    return _fast_path_used


def connection(send: Any, *, max_owed: int, on_too_slow: Callable[[int], None]) -> DaphneConnection | None:
    """The daphne connection behind an ASGI ``send``; None under another server, or when
    :func:`check` found the libraries changed (the caller then uses ``send``).

    Once it owes more than ``max_owed`` bytes the connection is dropped at the next write,
    after ``on_too_slow(owed)``."""
    protocol = _daphne_protocol(send)
    if protocol is None or not check():
        return None
    if not all(hasattr(protocol, name) for name in _PROTOCOL_PER_CONNECTION):
        _warn_once(f"autobahn's protocol lacks one of {', '.join(_PROTOCOL_PER_CONNECTION)}")
        return None
    return DaphneConnection(protocol, _tcp_transport(protocol), max_owed, on_too_slow)


@functools.cache
def _warn_once(problem: str) -> None:
    log.warning("live fast path off: %s (written for %s)", problem, _written_for())


def _tcp_transport(protocol: Any) -> Any | None:
    """The Twisted TCP transport under daphne's WebSocket protocol (under its HTTP channel)."""
    transport = getattr(protocol, "transport", None)
    for _depth in range(4):
        if transport is None:
            return None
        if all(hasattr(transport, name) for name in _TRANSPORT_PER_CONNECTION):
            return transport
        transport = getattr(transport, "transport", None)
    return None


def _daphne_protocol(send: Any) -> Any | None:
    """The autobahn protocol behind an ASGI ``send`` from daphne, or None elsewhere.

    daphne passes ``functools.partial(server.handle_reply, protocol)``; Channels' session
    middleware may wrap it in an object holding it as ``real_send``.
    """
    for _depth in range(5):
        if isinstance(send, functools.partial):
            func = send.func
            if getattr(func, "__name__", "") == "handle_reply" and send.args and hasattr(send.args[0], "sendPreparedMessage"):
                return send.args[0]
            if "daphne.server" in sys.modules:
                _warn_once("daphne's ASGI send is no longer partial(Server.handle_reply, protocol)")
            return None
        owner = getattr(send, "__self__", None)
        inner = getattr(owner, "real_send", None)
        if inner is None:
            return None
        send = inner
    return None


# --- daphne's command line -----------------------------------------------------------------------


def run_daphne(argv: list[str], when_running: Callable[[], None]) -> None:
    """daphne's command line with :class:`AccessLogServer`; ``when_running`` is called on the
    server's loop once it runs."""
    from daphne.cli import CommandLineInterface

    server_class = access_log_server()  # imports daphne.server, which installs the asyncio reactor

    from twisted.internet import reactor

    reactor.callWhenRunning(when_running)
    cli = CommandLineInterface()
    cli.server_class = server_class  # secrets in query strings never reach the access log
    cli.run(argv)


def before_shutdown(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """At the server's shutdown, keep its loop running until ``work()`` is done."""
    import asyncio

    from twisted.internet import defer, reactor

    reactor.addSystemEventTrigger("before", "shutdown", lambda: defer.Deferred.fromFuture(asyncio.ensure_future(work())))  # type: ignore[arg-type]  # the interface is declared without self


@functools.cache
def access_log_server() -> type:
    """daphne's ``Server`` whose access log lines have secrets removed from paths
    (agora/infra/access_log.py). Importing daphne's server installs its asyncio reactor."""
    from daphne.server import Server

    from agora.infra.access_log import redact

    class AccessLogServer(Server):
        def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
            path = details.get("path")
            if isinstance(path, str):
                details = {**details, "path": redact(path)}
            super().log_action(protocol, action, details)

    return AccessLogServer
