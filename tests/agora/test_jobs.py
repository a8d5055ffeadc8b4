"""The job runner (agora/infra/jobs): stored with the change, run once, given back when its
worker died, tried again when it failed; motion auto-close is one of its jobs.

Real processes (two workers, a restart, a real server) are in tests/scale/test_jobs_processes.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agora.infra import jobs
from agora.infra.jobs import runner
from agora.roster.models import AuditEvent
from tests.factories import World
from tests.voting.helpers import open_motion
from voting.models import Motion, MotionState, Resolution

calls: list[str] = []


@jobs.job("test.record")
def record(key: str) -> None:
    calls.append(key)


@jobs.job("test.fails")
def fails(key: str) -> None:
    raise RuntimeError(f"broken {key}")


@pytest.fixture(autouse=True)
def _clean(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AGORA_VOTING_TIMERS = False  # no timers in this process: only run_due runs jobs
    calls.clear()


def _past(seconds: float = 1) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


@pytest.mark.django_db
def test_a_due_job_runs_once_and_a_future_one_waits() -> None:
    jobs.schedule("test.record", "due", _past())
    jobs.schedule("test.record", "later", timezone.now() + timedelta(hours=1))
    assert jobs.run_due() == 1
    assert jobs.run_due() == 0
    assert calls == ["due"]
    assert [(p.key, p.status) for p in jobs.pending(kind="test.record")] == [("later", "READY")]


@pytest.mark.django_db
def test_a_job_is_stored_with_its_change_and_rolled_back_with_it() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.schedule("test.record", "rolled-back", _past())
        raise RuntimeError("the change failed")
    assert jobs.pending() == []
    assert jobs.run_due() == 0 and calls == []


@pytest.mark.django_db
def test_scheduling_again_replaces_the_pending_job_of_that_kind_and_key() -> None:
    jobs.schedule("test.record", "42", timezone.now() + timedelta(hours=1))
    jobs.schedule("test.record", "42", _past())
    jobs.schedule("test.record", "43", timezone.now() + timedelta(hours=2))
    assert [p.key for p in jobs.pending(kind="test.record")] == ["42", "43"]
    assert jobs.run_due() == 1 and calls == ["42"]
    assert jobs.cancel("test.record", "43") == 1
    assert jobs.pending() == []


@pytest.mark.django_db
def test_an_unknown_kind_is_refused_when_scheduled() -> None:
    with pytest.raises(LookupError):
        jobs.schedule("test.no-such-kind", "1", _past())


@pytest.mark.django_db
def test_a_job_left_running_by_a_dead_worker_runs_again_after_the_lease() -> None:
    jobs.schedule("test.record", "orphan", _past())
    row = DBTaskResult.objects.get()
    row.claim("a-worker-that-was-killed")  # claimed, then the process died before running it
    assert jobs.run_due() == 0, "a running row belongs to its worker"
    assert jobs.requeue_stale(older_than=3600) == 0, "within the lease it is left alone"
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=timezone.now() - timedelta(seconds=runner.lease() + 1))
    assert jobs.requeue_stale() == 1
    assert jobs.run_due() == 1 and calls == ["orphan"]


@pytest.mark.django_db
def test_a_failed_job_is_recorded_and_tried_again_later(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AGORA_JOBS_RETRY_DELAYS = (0, 0)
    jobs.schedule("test.fails", "x", _past())
    assert jobs.run_due() == 3  # the first run and two retries, each due at once
    rows = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [r.status for r in rows] == ["FAILED", "FAILED", "FAILED"]
    assert "broken x" in rows[0].traceback
    assert [r.args_kwargs["kwargs"]["attempt"] for r in rows] == [0, 1, 2]
    assert jobs.pending() == [], "after the last retry nothing is pending"


# --- motion auto-close on the runner -----------------------------------------------------------


def _due(motion: Motion) -> Motion:
    """Move the closing time (and its job) into the past, as if that much time had gone by."""
    closes_at = timezone.now() - timedelta(seconds=1)
    Motion.objects.filter(pk=motion.pk).update(closes_at=closes_at)
    DBTaskResult.objects.update(run_after=closes_at)
    motion.refresh_from_db()
    return motion


@pytest.mark.django_db
def test_opening_a_motion_with_a_closing_time_stores_its_close_job(world: World) -> None:
    motion = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=5))
    [job] = jobs.pending(kind="motion.auto_close")
    assert job.key == str(motion.pk) and job.at == motion.closes_at
    assert jobs.run_due() == 0
    assert Motion.objects.get(pk=motion.pk).state == MotionState.OPEN


@pytest.mark.django_db
def test_the_close_job_closes_the_motion_at_its_time_once_even_delivered_twice(world: World) -> None:
    motion = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=5))
    motion = _due(motion)
    runner._enqueue("motion.auto_close", str(motion.pk), motion.closes_at)  # a second delivery of the same close
    assert jobs.run_due() == 2
    motion.refresh_from_db()
    assert motion.state == MotionState.CLOSED and motion.closed_at == motion.closes_at and motion.closed_by is None
    assert Resolution.objects.filter(motion=motion).count() == 1
    closes = AuditEvent.objects.filter(kind="motion.closed", detail__motion_id=motion.pk)
    assert closes.count() == 1 and closes.get().detail["by_timer"] is True
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


@pytest.mark.django_db
def test_a_close_job_run_before_the_closing_time_waits_for_it(world: World) -> None:
    motion = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=5))
    DBTaskResult.objects.update(run_after=_past())  # a worker whose clock runs ahead
    assert jobs.run_due() == 1
    assert Motion.objects.get(pk=motion.pk).state == MotionState.OPEN
    [again] = jobs.pending(kind="motion.auto_close")
    assert again.key == str(motion.pk) and again.at == motion.closes_at


@pytest.mark.django_db
def test_a_close_job_for_a_motion_closed_by_hand_does_nothing(world: World) -> None:
    from voting.services import motion_close

    motion = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=5))
    motion_close(motion=motion, by=world.moderator)
    DBTaskResult.objects.update(run_after=_past())
    assert jobs.run_due() == 1
    assert AuditEvent.objects.filter(kind="motion.closed", detail__motion_id=motion.pk).count() == 1
    assert Motion.objects.get(pk=motion.pk).closed_by_id == world.moderator.pk
