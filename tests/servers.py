"""Real servers for tests: daphne subprocesses on the test database, private redis-servers,
and service checks.

Markers: ``redis`` (needs Redis), ``postgres`` (needs PostgreSQL), ``browser`` (needs
/usr/bin/chromium). On a developer's machine a missing one skips with the reason; in
CI (CI=true) a missing one fails: no test may be skipped there for want of a service.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


_GIVEN_PORTS: deque[int] = deque(maxlen=64)


def free_port() -> int:
    """A port free now and not handed out lately by this process (servers started together
    have not bound theirs yet)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.append(port)
            return port


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def missing_reason(marker: str) -> str | None:
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL (make test does when Redis runs on 127.0.0.1:6379)"
    if marker == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL (make test does when PostgreSQL runs on 127.0.0.1:5432)"
    if marker == "browser" and not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def services_required(items: list[pytest.Item]) -> None:
    in_ci = os.environ.get("CI", "").lower() == "true" and os.environ.get("AGORA_ALLOW_SKIPS") != "1"
    # `make test` runs the suite twice; Redis and PostgreSQL tests belong to the second pass.
    embedded_pass = os.environ.get("AGORA_TEST_PASS") == "embedded"
    for item in items:
        in_browser_dir = "/tests/browser/" in str(item.fspath)
        for marker in ("redis", "postgres", "browser"):
            if item.get_closest_marker(marker) is None and not (marker == "browser" and in_browser_dir):
                continue
            reason = missing_reason(marker)
            if reason is None:
                continue
            if embedded_pass and marker in {"redis", "postgres"}:
                item.add_marker(pytest.mark.skip(reason=f"runs in the production pass of make test ({reason})"))
            elif in_ci:
                item.user_properties.append(("agora_missing_service", reason))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


def fail_if_service_missing(item: pytest.Item) -> None:
    for key, reason in item.user_properties:
        if key == "agora_missing_service":
            pytest.fail(f"CI must not skip, but this test {reason}")


def collected_static() -> Path:
    """STATIC_ROOT for the servers tests start: ``collectstatic`` of today's static/ (hashed names,
    .gz and .br), made once per content and shared by every test process (made aside, then renamed
    into place, so a process never sees a half-made one)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    target = Path(tempfile.gettempdir()) / f"agora-static-{digest.hexdigest()[:16]}"
    if (target / "staticfiles.json").exists():
        return target
    building = Path(tempfile.mkdtemp(prefix="agora-static-building-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"AGORA_STATIC_MANIFEST": "1", "AGORA_STATIC_ROOT": str(building), "DJANGO_SETTINGS_MODULE": "agora.settings"})
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    try:
        building.rename(target)
    except OSError:  # another process made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return target


def server_env(*, redis_url: str | None = None, prefix: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a daphne subprocess on this test's database.

    By default it shares this test's channel layer (REDIS_URL, if any, and this process's
    prefix); ``redis_url`` and ``prefix`` give it another Redis (a ``private_redis()``) and
    group names of its own; ``extra`` adds settings (pool sizes, limits).
    """
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "AGORA_SQLITE_PATH"}}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    else:
        env["AGORA_SQLITE_PATH"] = str(db["NAME"])
    env["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    env["AGORA_SERVE_STATIC"] = "1"
    # As in production: hashed, precompressed files from collectstatic (settings, "Static").
    env["AGORA_STATIC_MANIFEST"] = "1"
    env["AGORA_STATIC_ROOT"] = str(collected_static())
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    # This process's prefix (per xdist worker, tests/conftest.py), so the server and the test share groups.
    own_prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix")
    if prefix is not None:
        env["AGORA_REDIS_PREFIX"] = prefix
    elif own_prefix:
        env["AGORA_REDIS_PREFIX"] = own_prefix
    else:
        env.setdefault("AGORA_REDIS_PREFIX", "agora")
    env.update(extra or {})
    return env


def end_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` (after SIGCONT, should the process be stopped); SIGKILL if it does not exit within 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class DaphneServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, *, log_dir: Path, env: Mapping[str, str] | None = None, timeout: float = 20.0) -> DaphneServer:
        """Start on a free port with ``env`` (default: ``server_env()``) and wait until it accepts."""
        return cls.spawn(log_dir=log_dir, env=env).wait_ready(timeout)

    @classmethod
    def spawn(cls, *, log_dir: Path, env: Mapping[str, str] | None = None) -> DaphneServer:
        """Start on a free port without waiting (``wait_ready`` waits): several start at once."""
        port = free_port()
        log_path = log_dir / f"daphne-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "agora.server", "-b", "127.0.0.1", "-p", str(port)],
                cwd=ROOT,
                env=dict(server_env() if env is None else env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return cls(process, port, log_path)

    def wait_ready(self, timeout: float = 20.0) -> DaphneServer:
        """Wait until the server accepts connections; kill it and raise if it does not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early: {self.log_path.read_text(errors='replace')[-2000:]}")
            if _reachable("127.0.0.1", self.port):
                return self
            time.sleep(0.05)
        self.process.kill()
        self.process.wait(timeout=5)
        raise RuntimeError(f"daphne did not start within {timeout}s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        end_process(self.process, sig)


def wait_ready_all(servers: list[DaphneServer], timeout: float = 20.0) -> None:
    """Wait for each of ``servers`` (spawned together); if one does not start, stop them all before
    raising: a server left running holds the test database, and the next run could not drop it."""
    try:
        for server in servers:
            server.wait_ready(timeout)
    except BaseException:
        for server in servers:
            server.stop()
        raise


@contextmanager
def daphne_servers(
    count: int, *, log_dir: Path, env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> Iterator[list[DaphneServer]]:
    """``count`` daphne processes with ``env`` (default: ``server_env()``), all stopped on leaving."""
    servers: list[DaphneServer] = []
    try:
        # All start at once (each spends its first seconds importing Django), then each is waited for.
        for _ in range(count):
            servers.append(DaphneServer.spawn(log_dir=log_dir, env=env))
        wait_ready_all(servers, timeout)
        yield servers
    finally:
        for server in servers:
            server.stop()


needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server binary (apt-get install redis-server)"
)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class PrivateRedis:
    """A redis-server of this test's own on a free port, without persistence: the shared one is
    never touched. ``kill`` is a crash, ``freeze`` a hang or a partition; ``start`` again comes
    back on the same port."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _redis_answers(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        return self

    def _running(self) -> subprocess.Popen[bytes] | None:
        return self.process if self.process is not None and self.process.poll() is None else None

    def freeze(self) -> None:
        process = self._running()
        assert process is not None, "no redis-server to freeze"
        process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if (process := self._running()) is not None:
            process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: Redis goes away as in a crash."""
        if (process := self._running()) is not None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """SIGTERM (after SIGCONT, should it be frozen); SIGKILL if it does not exit."""
        if self.process is not None:
            end_process(self.process)
        self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A started ``PrivateRedis``, stopped on leaving (frozen, killed or running)."""
    redis = PrivateRedis(port=free_port())
    try:
        yield redis.start()
    finally:
        redis.stop()
