from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agora.roster.importer import roster_import
from agora.roster.models import Community


class Command(BaseCommand):
    help = "Import households and residents from a CSV file (docs/roster-import.md). All or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--community", required=True, help="the community's short name (slug)")

    def handle(self, *args: Any, file: Path, community: str, **options: Any) -> None:
        try:
            target = Community.objects.get(slug=community)
        except Community.DoesNotExist as exc:
            raise CommandError(f"no community with the short name {community!r}") from exc
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        report = roster_import(community=target, text=text)
        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(report.errors)} problem(s) found; nothing was imported.")
        if not report.changed:
            self.stdout.write("Nothing changed: the roster is already up to date.")
            return
        for label, bucket in (("created", report.created), ("updated", report.updated)):
            for kind, n in sorted(bucket.items()):
                self.stdout.write(f"{label} {n} {kind}")
