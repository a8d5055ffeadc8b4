"""Close every motion whose set closing time has passed (run from cron or a timer unit).

The server also closes them lazily (a late ballot, a status request, the results page) and
with an in-process timer; this command covers a deployment where nobody is looking.
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
