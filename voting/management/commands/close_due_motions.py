"""Close every motion whose set closing time has passed, at once (by hand, or from cron).

Normally not needed: each motion's close is a stored job (agora/infra/jobs) that a worker runs
at its time, and the server also closes lazily (a late ballot, a status request, the results page).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from voting.closing import motion_close_due


class Command(BaseCommand):
    help = "Close motions whose closing time has passed and publish their results."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = motion_close_due()
        self.stdout.write(f"closed {len(closed)} motion(s)")
