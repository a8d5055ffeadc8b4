"""Run scheduled jobs: ``manage.py run_jobs`` (docs/deployment.md, "Jobs").

Any number of these may run beside the servers, on any host that reaches the database: each
claims a due row under a lock, so a job runs in one of them. ``--once`` runs what is due now and
exits (a cron line, or a check after a restore). SIGTERM or SIGINT stops it after the job in hand.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from asgiref.sync import SyncToAsync
from django.core.management.base import BaseCommand, CommandParser

from agora.infra.jobs.runner import Worker


async def _drain_announcements(seconds: float = 2.0) -> None:
    """Let the loop's sender publish what the last jobs announced (agora/broadcast.py)."""
    from agora.infra.broadcast import announcer_for

    announcer = announcer_for(asyncio.get_running_loop())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    # Done once the queue is empty and the sender went back to waiting (its last send finished).
    # Polled: no event says "sent", and the wait is bounded.
    while (announcer.pending or (announcer.task is not None and announcer.wakeup.is_set())) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


class Command(BaseCommand):
    help = "Run scheduled jobs (motion auto-close and others) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=None, help="seconds between polls (default: AGORA_JOBS_INTERVAL)")
        parser.add_argument("--once", action="store_true", help="run the jobs due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self._main(once=options["once"], every=options["interval"]))

    async def _main(self, *, once: bool, every: float | None) -> None:
        worker = Worker(every=every)
        if once:
            ran = await SyncToAsync(worker.tick, thread_sensitive=False, executor=worker.executor)()
            worker.executor.shutdown(wait=False)
            await _drain_announcements()
            self.stdout.write(f"ran {ran} job(s)")
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        self.stdout.write(f"job worker {worker.worker_id} running (every {worker.interval:g} s)")
        self.stdout.flush()
        await worker.serve()
        await _drain_announcements()
        self.stdout.write(f"job worker {worker.worker_id} stopped after {worker.ran} job(s)")
