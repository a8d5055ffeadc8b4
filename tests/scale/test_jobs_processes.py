"""The job runner with real processes (agora/infra/jobs; docs/decisions.md "Job runner").

- Two ``manage.py run_jobs`` workers on PostgreSQL race for 20 motions that close at the same
  moment, each close delivered twice: every motion closes once, and residents watching through
  a daphne (which runs no jobs itself) see each close once.
- A close scheduled while a server ran, due while every process was down, happens at the next
  start, at the set time (both passes: SQLite and PostgreSQL).
- The embedded default: a real server closes a motion at its time with nobody watching, and a
  resident in the room sees it live (both passes).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agora.infra import jobs
from agora.infra.jobs import runner
from agora.roster.models import AuditEvent
from tests.factories import World
from tests.scale.residents import Resident, start_daphne, until
from tests.servers import ROOT, server_env
from tests.sessions.live_helpers import session_cookie
from tests.voting.helpers import open_motion
from voting.models import Motion, MotionState, Resolution

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_timers_here(settings) -> None:  # type: ignore[no-untyped-def]
    """This test process schedules jobs but never runs them: only the processes under test do."""
    settings.AGORA_VOTING_TIMERS = False


def _wait(predicate, *, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.1)


class JobWorker:
    """``manage.py run_jobs`` as a subprocess on this test's database and channel layer."""

    def __init__(self, log_dir: Path, name: str) -> None:
        self.log_path = log_dir / f"run_jobs-{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_jobs", "--interval", "0.1"],
            cwd=ROOT,
            env=server_env(),
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: "running" in self.log(), timeout=30, what=f"worker {name} to start ({self.log_path})")
        self.worker_id = self.log().split("job worker ", 1)[1].split(" ", 1)[0]

    def log(self) -> str:
        if self.process.poll() is not None and "running" not in self.log_path.read_text(errors="replace"):
            raise RuntimeError(f"run_jobs exited: {self.log_path.read_text(errors='replace')[-2000:]}")
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _closes(motion: Motion) -> int:
    return AuditEvent.objects.filter(kind="motion.closed", detail__motion_id=motion.pk).count()


MOTIONS = 20


@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_close_each_motion_once_even_when_each_close_is_delivered_twice(tx_world: World, tmp_path: Path) -> None:
    web = start_daphne(log_dir=tmp_path, env={"AGORA_JOBS_IN_SERVER": "0"})  # serves the room, runs no jobs
    workers = [JobWorker(tmp_path, "a"), JobWorker(tmp_path, "b")]
    watcher = Resident("watcher", session_cookie(tx_world.resident), tx_world.session.pk)
    at = timezone.now() + timedelta(seconds=4)

    def open_them() -> list[Motion]:
        opened = [open_motion(tx_world.session, tx_world.moderator, text=f"事项{i}", closes_at=at) for i in range(MOTIONS)]
        for motion in opened:
            runner._enqueue("motion.auto_close", str(motion.pk), at)  # the same close, delivered a second time
        assert DBTaskResult.objects.count() == 2 * MOTIONS
        assert timezone.now() < at, "every motion was opened before the common closing time"
        return opened

    def all_closed(opened: list[Motion]) -> None:
        _wait(
            lambda: not Motion.objects.filter(pk__in=[m.pk for m in opened], state=MotionState.OPEN).exists(),
            timeout=60,
            what="every motion closed by the workers",
        )
        _wait(lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2 * MOTIONS, timeout=30, what="every job row finished")

    async def scenario() -> list[Motion]:
        await watcher.connect(web)
        try:
            opened = await database_sync_to_async(open_them)()
            await database_sync_to_async(all_closed)(opened)
            await until(
                lambda: len([f for f in watcher.frames if f.get("type") == "motion.closed"]) >= MOTIONS,
                timeout=30,
                what="the watcher saw every close",
            )
            await asyncio.sleep(1)  # a duplicate announcement would arrive now
            return opened
        finally:
            await watcher.close()

    try:
        motions = asyncio.run(scenario())
    finally:
        for worker in workers:
            worker.stop()
        web.stop()

    for motion in motions:
        motion.refresh_from_db()
        assert motion.state == MotionState.CLOSED and motion.closed_at == at and motion.closed_by is None
        assert _closes(motion) == 1, f"motion {motion.pk} was closed {_closes(motion)} times"
    assert Resolution.objects.filter(motion__in=motions).count() == MOTIONS
    seen = sorted(f["motion_id"] for f in watcher.frames if f.get("type") == "motion.closed")
    assert seen == sorted(m.pk for m in motions), "each close announced once to the room"
    rows = list(DBTaskResult.objects.all())
    assert all(len(r.worker_ids) == 1 for r in rows), "a row was claimed twice"
    by_worker = {w.worker_id: sum(1 for r in rows if r.worker_ids == [w.worker_id]) for w in workers}
    assert sum(by_worker.values()) == 2 * MOTIONS, f"rows run by other than the two workers: {by_worker}"
    print(f"job rows run per worker: {sorted(by_worker.values())}")


def test_a_close_due_while_everything_was_down_happens_at_the_next_start(tx_world: World, tmp_path: Path) -> None:
    first = start_daphne(log_dir=tmp_path)
    at = timezone.now() + timedelta(seconds=3)
    motion = open_motion(tx_world.session, tx_world.moderator, closes_at=at)
    first.stop(sig=signal.SIGKILL)  # the server that ran when the close was scheduled is gone
    _wait(lambda: timezone.now() > at + timedelta(seconds=1), timeout=10, what="the closing time to pass")
    motion.refresh_from_db()
    assert motion.state == MotionState.OPEN, "nothing ran while every process was down"
    assert [j.key for j in jobs.pending(kind="motion.auto_close")] == [str(motion.pk)]

    second = start_daphne(log_dir=tmp_path)
    try:
        _wait(
            lambda: Motion.objects.filter(pk=motion.pk, state=MotionState.CLOSED).exists(),
            timeout=30,
            what="the next start to close the motion",
        )
    finally:
        second.stop()  # at once: the job in hand, if any, finishes before the process exits
    motion.refresh_from_db()
    assert motion.closed_at == at and motion.closed_by is None, "closed as of its set time, by the timer"
    assert _closes(motion) == 1 and Resolution.objects.filter(motion=motion).count() == 1
    assert jobs.pending() == []


def test_a_real_server_closes_a_motion_at_its_time_and_the_room_sees_it(tx_world: World, tmp_path: Path) -> None:
    server = start_daphne(log_dir=tmp_path)
    resident = Resident("resident", session_cookie(tx_world.resident), tx_world.session.pk)

    async def scenario() -> Motion:
        await resident.connect(server)
        try:
            at = timezone.now() + timedelta(seconds=2)
            motion = await database_sync_to_async(open_motion)(tx_world.session, tx_world.moderator, closes_at=at)
            await until(
                lambda: any(f.get("type") == "motion.closed" for f in resident.frames), timeout=30, what="motion.closed in the room"
            )
            await asyncio.sleep(1)  # a second close would be announced now
            return motion
        finally:
            await resident.close()

    try:
        motion = asyncio.run(scenario())
    finally:
        server.stop()
    closed = [f for f in resident.frames if f.get("type") == "motion.closed"]
    assert [f["motion_id"] for f in closed] == [motion.pk]
    motion.refresh_from_db()
    assert motion.state == MotionState.CLOSED and motion.closed_at == motion.closes_at and motion.closed_by is None
    assert _closes(motion) == 1
