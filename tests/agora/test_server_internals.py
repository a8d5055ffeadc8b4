"""The fence (agora/infra/server_internals.py): under the pinned daphne, autobahn and Twisted the
live room writes frames by the fast path; when a library no longer has what it reads, the room
takes the plain path and the log says why; the pins are the versions the fence names."""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from agora.infra import server_internals
from tests.factories import World
from tests.scale.residents import Resident, start_daphne, until
from tests.sessions.live_helpers import session_cookie

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db(transaction=True)
def test_a_real_daphne_writes_the_rooms_frames_by_the_fast_path(tx_world: World, tmp_path: Path) -> None:
    """A resident in a room served by ``python -m agora.server`` gets a moderator's message, and
    the server wrote it straight to the socket: the one log line of ``DaphneConnection.write``'s
    direct branch is there, and no warning of the self-check."""
    server = start_daphne(log_dir=tmp_path, env={"AGORA_LOG_LEVEL": "INFO"})
    moderator = Resident("mod", session_cookie(tx_world.moderator), tx_world.session.pk)
    resident = Resident("resident", session_cookie(tx_world.resident), tx_world.session.pk)

    async def scenario() -> None:
        await moderator.connect(server)
        await resident.connect(server)
        answer = await moderator.post("东门晚上能不能划线停车?", "fence-1")
        assert answer["type"] == "message.ack", answer
        await until(lambda: resident.seqs == [1], timeout=10, what="the message reached the resident")
        await moderator.close()
        await resident.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        server.stop()
    log = server.log_path.read_text(errors="replace")
    assert "live fast path off" not in log and "written and measured for" not in log, f"the fence warned (see the server's log):\n{log}"
    assert "live fast path in use" in log, f"the frames went by the plain path (no fast-path line in the server's log):\n{log}"


def _daphne_like_send() -> Any:
    """An ASGI ``send`` as daphne makes it: ``partial(Server.handle_reply, protocol)``."""

    class Protocol:
        STATE_OPEN = 3
        state = 3
        send_queue: list[bytes] = []
        logOctets = False
        trafficStats = None
        factory = None
        transport = None

        def sendPreparedMessage(self, prepared: Any) -> None:  # noqa: N802 (autobahn's name)
            raise AssertionError("not written by the plain path")

    async def handle_reply(protocol: Any, message: Any) -> None:
        pass

    return functools.partial(handle_reply, Protocol())


def test_a_missing_library_attribute_turns_the_fast_path_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from autobahn.websocket import protocol

    monkeypatch.setattr(server_internals, "_checked", None)
    assert server_internals.check() is True
    assert server_internals.connection(_daphne_like_send(), max_owed=1024, on_too_slow=print) is not None  # the pinned libraries: on

    monkeypatch.setattr(server_internals, "_checked", None)
    monkeypatch.delattr(protocol.WebSocketFactory, "prepareMessage")  # an autobahn that renamed it
    with caplog.at_level(logging.WARNING, logger=server_internals.__name__):
        assert server_internals.check() is False
        assert server_internals.connection(_daphne_like_send(), max_owed=1024, on_too_slow=print) is None  # Wire uses the ASGI send
    assert any("live fast path off" in r.getMessage() and "prepareMessage" in r.getMessage() for r in caplog.records)


def test_a_version_other_than_the_one_written_for_is_logged(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(server_internals, "_checked", None)
    monkeypatch.setitem(server_internals.WRITTEN_FOR, "autobahn", "0.0.1")
    with caplog.at_level(logging.WARNING, logger=server_internals.__name__):
        assert server_internals.check() is True  # the attributes are there: still on, but said
    assert any("autobahn" in r.getMessage() and "0.0.1" in r.getMessage() for r in caplog.records)


def test_requirements_pin_the_versions_the_fence_was_written_for() -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE))
    for name, version in server_internals.WRITTEN_FOR.items():
        assert pins.get(name) == version, f"requirements.txt pins {name}=={pins.get(name)}, the fence was written for {version}"
        assert metadata.version(name) == version, f"{name} {metadata.version(name)} is installed, the fence was written for {version}"


def test_nothing_but_the_fence_imports_the_server_libraries() -> None:
    """A new reach into daphne, autobahn, Twisted or txaio goes into the fence, not beside it."""
    fenced = {"daphne", "autobahn", "twisted", "txaio"}
    outside: list[str] = []
    for package in ("agora", "sessions", "voting", "records", "bench"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "agora" / "infra" / "server_internals.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and node.level == 0
                    else []
                )
                outside += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names if name.split(".")[0] in fenced]
    assert outside == []
