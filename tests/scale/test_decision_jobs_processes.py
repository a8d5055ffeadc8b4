"""Owners' decisions open and close on time with nobody watching: two job workers (real
``manage.py run_jobs`` processes) on one database and one test clock fire each decision's
transitions once; a transition due while every process was down fires at the next start.
Both passes (SQLite and PostgreSQL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agora.infra import clock
from tests.servers import ROOT, server_env
from tests.voting.decisions.helpers import decision_world, draft_decision
from voting.decisions.lifecycle import decision_announce
from voting.models import Decision, DecisionState, DecisionStep

pytestmark = pytest.mark.django_db(transaction=True)

DECISIONS = 8


@pytest.fixture
def clock_file(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "clock"
    path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(path)
    settings.AGORA_VOTING_TIMERS = False  # this process schedules; only the workers run jobs
    return path


def _worker(log_dir: Path, name: str, clock_path: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"run_jobs-{name}.log").open("wb")
    env = server_env(extra={"AGORA_TEST_CLOCK_FILE": str(clock_path)})
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_jobs", "--interval", "0.1"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait(predicate, *, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.1)


def _kinds(decision: Decision) -> list[str]:
    return list(DecisionStep.objects.filter(decision=decision).order_by("seq").values_list("kind", flat=True))


def test_two_workers_open_and_close_each_decision_once(clock_file: Path, tmp_path: Path) -> None:
    dw = decision_world()
    decisions = []
    for i in range(DECISIONS):
        d = draft_decision(dw, days_until_open=16, days_open=7 + i)
        decisions.append(decision_announce(decision=d, by=dw.moderator))
    workers = [_worker(tmp_path, name, clock_file) for name in ("a", "b")]
    try:
        clock.advance(16 * 86400 + 60)  # every period has begun
        _wait(lambda: Decision.objects.filter(state=DecisionState.OPEN).count() == DECISIONS, timeout=90, what="every decision opened")
        clock.advance((7 + DECISIONS) * 86400)  # every period has ended
        _wait(
            lambda: Decision.objects.filter(state=DecisionState.PRELIMINARY).count() == DECISIONS, timeout=90, what="every decision closed"
        )
        time.sleep(1)  # a second firing would land now
    finally:
        for worker in workers:
            _stop(worker)
    for d in decisions:
        assert _kinds(d) == ["announced", "opened", "closed", "preliminary"], _kinds(d)


def test_a_close_due_while_everything_was_down_fires_at_the_next_start(clock_file: Path, tmp_path: Path) -> None:
    dw = decision_world()
    d = decision_announce(decision=draft_decision(dw), by=dw.moderator)
    clock.advance(40 * 86400)  # start and end passed with no process running
    worker = _worker(tmp_path, "late", clock_file)
    try:
        _wait(lambda: Decision.objects.get(pk=d.pk).state == DecisionState.PRELIMINARY, timeout=90, what="the missed period ran at start")
    finally:
        _stop(worker)
    d.refresh_from_db()
    assert d.closed_at == d.closes_at  # closed at its set time, not at the late start
    assert _kinds(d) == ["announced", "opened", "closed", "preliminary"]
