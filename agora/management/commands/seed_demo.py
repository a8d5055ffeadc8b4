from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from agora.demo import DEMO_PASSWORD, DEMO_RESIDENTS, demo_seed
from agora.roster.models import Community


class Command(BaseCommand):
    help = "Load the demo community 港云里 (demo-only accounts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any community exists")

    def handle(self, *args: Any, if_empty: bool, **options: Any) -> None:
        if Community.objects.exists():
            if if_empty:
                self.stdout.write("The database already has communities; demo data not loaded.")
                return
            self.stderr.write("The database already has communities; refusing to add the demo twice.")
            return
        demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo community 港云里 loaded (demo only — never use these accounts in production)."))
        self.stdout.write(f"  moderator / {DEMO_PASSWORD}   (moderator, 王书记)")
        self.stdout.write(f"  observer / {DEMO_PASSWORD}    (observer, property company)")
        self.stdout.write(f"  resident01 … resident{DEMO_RESIDENTS:02d} / {DEMO_PASSWORD}   (residents; resident01–24 are car owners)")
