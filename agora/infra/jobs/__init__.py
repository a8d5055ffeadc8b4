"""Scheduled jobs that outlive the process which scheduled them (docs/decisions.md, "Job runner").

A job is a row in the database (django-tasks' database backend), written in the transaction of
the change that needs it, so it exists exactly when that change committed. Any worker may run
it once its time has come: the in-process worker of every ``python -m agora.server`` (the
embedded default) or ``manage.py run_jobs`` processes (production, as many as wanted). A row is
claimed under a row lock (``SKIP LOCKED`` on PostgreSQL, an exclusive transaction on SQLite),
so one worker runs it; a worker that died holding one gives it back after the lease, and a
failed run is tried again later. Delivery is therefore at least once, and every handler is a
conditional transition (lock the row, re-check the state, change it or do nothing), so the
effect happens exactly once.

    @job("motion.auto_close")
    def motion_auto_close(key: str) -> None: ...

    schedule("motion.auto_close", str(motion.pk), at=motion.closes_at)  # inside the transaction
"""

from agora.infra.jobs.runner import cancel, job, pending, requeue_stale, run_due, schedule, wake_at

__all__ = ["cancel", "job", "pending", "requeue_stale", "run_due", "schedule", "wake_at"]
