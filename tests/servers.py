"""Real servers for tests: daphne subprocesses on the test database, and service checks.

Markers: ``redis`` (needs Redis), ``postgres`` (needs PostgreSQL), ``browser`` (needs
/usr/bin/chromium). On a developer's machine a missing one skips with the reason; in
CI (CI=true) a missing one fails: no test may be skipped there for want of a service.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def server_env() -> dict[str, str]:
    """Environment for a daphne subprocess that shares this test's database and channel layer."""
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
    # This process's prefix (per xdist worker, tests/conftest.py), so the server and the test share groups.
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix")
    if prefix:
        env["AGORA_REDIS_PREFIX"] = prefix
    else:
        env.setdefault("AGORA_REDIS_PREFIX", "agora")
    return env


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
    def start(cls, *, log_dir: Path, timeout: float = 20.0) -> DaphneServer:
        port = free_port()
        log_path = log_dir / f"daphne-{port}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "agora.server", "-b", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=server_env(), stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited early: {log_path.read_text(errors='replace')[-2000:]}")
            if _reachable("127.0.0.1", port):
                return cls(process, port, log_path)
            time.sleep(0.1)
        process.kill()
        raise RuntimeError(f"daphne did not start within {timeout}s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
