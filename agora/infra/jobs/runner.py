"""Agora's jobs on django-tasks' database backend: ``@job(kind)``, ``schedule``, the workers.

Every job row is the one library task ``run_job(kind=, key=, attempt=)``: rows keep a stable
kind ("motion.auto_close") and a key (the motion's id), not a function's import path, so moving
code does not orphan scheduled rows. The modules that define handlers are listed in
``settings.AGORA_JOB_MODULES`` and imported when the first job runs.

Delivery is at least once:
- a row is claimed in an exclusive transaction (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite
  takes the write lock at BEGIN), so two workers never claim the same row;
- a row left ``RUNNING`` by a worker that died is made ready again after
  ``AGORA_JOBS_LEASE`` seconds (``requeue_stale``);
- a handler that raises is recorded as failed and tried again after
  ``AGORA_JOBS_RETRY_DELAYS``.
So a handler must be idempotent: lock its row, re-check the state, then change it or do nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import OperationalError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import task

from agora.infra import clock

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_tasks_db.management.commands.db_worker import Worker as LibraryWorker
    from django_tasks_db.models import DBTaskResult

log = logging.getLogger("agora.jobs")

Handler = Callable[[str], None]
_HANDLERS: dict[str, Handler] = {}
_modules_imported = False
_modules_lock = threading.Lock()


def interval() -> float:
    return float(getattr(settings, "AGORA_JOBS_INTERVAL", 1.0))


def lease() -> float:
    return float(getattr(settings, "AGORA_JOBS_LEASE", 300.0))


def retry_delays() -> list[float]:
    return [float(d) for d in getattr(settings, "AGORA_JOBS_RETRY_DELAYS", (5, 30, 120, 600, 3600))]


def job(kind: str) -> Callable[[Handler], Handler]:
    """Register ``func(key)`` as the handler of ``kind``. It must be idempotent (module docstring)."""

    def register(func: Handler) -> Handler:
        known = _HANDLERS.get(kind)
        if known is not None and (known.__module__, known.__qualname__) != (func.__module__, func.__qualname__):
            raise ValueError(f"job kind {kind!r} is already handled by {known.__module__}.{known.__qualname__}")
        _HANDLERS[kind] = func
        return func

    return register


def _handler(kind: str) -> Handler:
    global _modules_imported
    if kind not in _HANDLERS and not _modules_imported:
        with _modules_lock:
            for module in getattr(settings, "AGORA_JOB_MODULES", ()):
                import_module(module)
            _modules_imported = True
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no handler for job kind {kind!r} (settings.AGORA_JOB_MODULES)") from None


@task()
def run_job(kind: str, key: str, attempt: int = 0) -> None:
    """The one library task: run the handler of ``kind`` for ``key``; on failure, try again later."""
    try:
        _handler(kind)(key)
    except Exception:
        delays = retry_delays()
        if attempt < len(delays):
            _enqueue(kind, key, timezone.now() + timedelta(seconds=delays[attempt]), attempt=attempt + 1)
            log.warning("job %s %s failed (attempt %d); tried again in %.0f s", kind, key, attempt + 1, delays[attempt])
        else:
            log.error("job %s %s failed %d times; not tried again", kind, key, attempt + 1)
        raise


def _rows() -> QuerySet[DBTaskResult]:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(backend_name=run_job.backend, task_path=run_job.module_path)


def _enqueue(kind: str, key: str, at: datetime, *, attempt: int = 0) -> None:
    run_job.using(run_after=at).enqueue(kind=kind, key=key, attempt=attempt)


def schedule(kind: str, key: str, at: datetime, *, wake: bool = False) -> None:
    """Run the handler of ``kind`` for ``key`` at ``at`` (or as soon as a worker runs, if that has
    passed). Call it inside the transaction of the change that needs it: the row commits, or
    rolls back, with that change. Replaces a pending job of the same kind and key.

    ``wake``: this process also sets a timer for ``at`` that runs due jobs here then, for a close
    to the second; the row is still claimed once, by whichever gets it first.
    """
    from django_tasks_db.compat import TaskResultStatus

    if kind not in _HANDLERS:
        _handler(kind)  # a typo fails here, not when the time comes
    _rows().filter(status=TaskResultStatus.READY, args_kwargs__kwargs__kind=kind, args_kwargs__kwargs__key=key).delete()
    _enqueue(kind, key, at)
    if wake:
        transaction.on_commit(lambda: wake_at(at))


def cancel(kind: str, key: str) -> int:
    """Drop the pending job of ``kind`` for ``key`` (one already running finishes)."""
    from django_tasks_db.compat import TaskResultStatus

    deleted, _ = _rows().filter(status=TaskResultStatus.READY, args_kwargs__kwargs__kind=kind, args_kwargs__kwargs__key=key).delete()
    return deleted


@dataclass(frozen=True)
class Pending:
    kind: str
    key: str
    at: datetime
    status: str
    attempt: int


def pending(*, kind: str | None = None, key: str | None = None, finished: bool = False) -> list[Pending]:
    """Job rows, oldest time first: not yet finished ones, or (``finished``) all of them."""
    from django_tasks_db.compat import TaskResultStatus

    rows = _rows()
    if not finished:
        rows = rows.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    if kind is not None:
        rows = rows.filter(args_kwargs__kwargs__kind=kind)
    if key is not None:
        rows = rows.filter(args_kwargs__kwargs__key=key)
    out = []
    for row in rows.order_by("run_after", "enqueued_at"):
        kwargs = row.args_kwargs.get("kwargs", {})
        out.append(
            Pending(
                kind=kwargs.get("kind", ""),
                key=kwargs.get("key", ""),
                at=row.run_after,
                status=row.status,
                attempt=int(kwargs.get("attempt", 0)),
            )
        )
    return out


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{get_random_string(8)}"


def _library_worker(worker_id: str) -> LibraryWorker:
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=[run_job.queue_name],
        interval=0,
        batch=True,
        backend_name=run_job.backend,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def _ready(model: type[DBTaskResult]) -> Any:
    """The library's ``ready()`` by ``agora.infra.clock`` (a test clock moves it; otherwise the same)."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import get_date_max

    return model.objects.filter(status=TaskResultStatus.READY).filter(Q(run_after=get_date_max()) | Q(run_after__lte=clock.now()))


def run_due(*, worker_id: str | None = None, limit: int = 100) -> int:
    """Claim and run due jobs one at a time, at most ``limit``; the number run."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

    worker_id = worker_id or new_worker_id()
    runner = _library_worker(worker_id)
    ran = 0
    while ran < limit:
        ready = _ready(DBTaskResult).filter(backend_name=run_job.backend, queue_name=run_job.queue_name)
        try:
            with exclusive_transaction(ready.db):
                row = ready.get_locked()
                if row is None:
                    break
                row.claim(worker_id)
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                break  # SQLite busy past its timeout: the next tick tries again
            raise
        runner.run_task(row)  # records success, or the failure with its traceback
        ran += 1
    return ran


def requeue_stale(*, older_than: float | None = None) -> int:
    """Make rows ``RUNNING`` for longer than the lease ready again: their worker died."""
    from django_tasks_db.compat import TaskResultStatus

    now = timezone.now()
    cutoff = now - timedelta(seconds=lease() if older_than is None else older_than)
    count = _rows().filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(status=TaskResultStatus.READY, run_after=now)
    if count:
        log.warning("%d job(s) left running by a worker that stopped were made ready again", count)
    return count


def _wake() -> None:
    run_due()


def wake_at(at: datetime) -> None:
    """Run due jobs in this process at ``at`` (a timer: lost on restart; the rows are not)."""
    from agora.infra.coalesce import run_later

    run_later(max(0.0, (at - clock.now()).total_seconds()) + 0.05, _wake)


class Worker:
    """A polling worker on an asyncio loop: every ``interval`` seconds it gives back stale rows
    (every half lease) and runs due jobs, in a thread of its own that knows the loop, so a job's
    announcements go out through the loop's one sender (agora/infra/broadcast.py)."""

    def __init__(self, *, every: float | None = None, worker_id: str | None = None) -> None:
        self.interval = interval() if every is None else every
        self.worker_id = worker_id or new_worker_id()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agora-jobs")
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._next_requeue = 0.0
        self.ran = 0

    def tick(self) -> int:
        close_old_connections()
        try:
            if time.monotonic() >= self._next_requeue:
                requeue_stale()
                self._next_requeue = time.monotonic() + min(60.0, lease() / 2)
            ran = run_due(worker_id=self.worker_id)
            self.ran += ran
            return ran
        finally:
            close_old_connections()

    async def serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        tick = SyncToAsync(self.tick, thread_sensitive=False, executor=self.executor)
        log.info("job worker %s started (every %.1f s)", self.worker_id, self.interval)
        try:
            while not self._stopping.is_set():
                try:
                    await tick()
                except Exception:
                    log.exception("job worker %s: a tick failed", self.worker_id)
                try:
                    await asyncio.wait_for(self._stopping.wait(), self.interval)
                except TimeoutError:
                    pass
        finally:
            self.executor.shutdown(wait=False)

    def stop(self) -> None:
        """Stop after the job that runs now (thread-safe)."""
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop and wait (bounded) for the job in hand: a server keeps its loop running until
        then, since a job's announcements go out through the loop (agora/broadcast.py)."""
        self.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                log.warning("job worker %s: a job still ran after %.0f s at shutdown", self.worker_id, timeout)


def start_in_server() -> Worker | None:
    """The embedded worker, on the server's running loop (agora/server.py); None when
    ``AGORA_JOBS_IN_SERVER`` is off (production with ``manage.py run_jobs`` processes)."""
    if not getattr(settings, "AGORA_JOBS_IN_SERVER", True):
        return None
    worker = Worker()
    worker._task = asyncio.get_event_loop().create_task(worker.serve())
    return worker
