from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agora.infra.errors import Refused
from agora.roster.importer import roster_import, roster_lines
from agora.roster.models import Community


class Command(BaseCommand):
    help = "Import households and residents from a CSV or XLSX file (docs/roster-import.md). All or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--community", required=True, help="the community's short name (slug)")

    def handle(self, *args: Any, file: Path, community: str, **options: Any) -> None:
        try:
            target = Community.objects.get(slug=community)
        except Community.DoesNotExist as exc:
            raise CommandError(f"no community with the short name {community!r}") from exc
        try:
            lines = roster_lines(file.read_bytes())
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        except Refused as exc:
            raise CommandError(str(exc)) from exc
        report = roster_import(community=target, lines=lines)
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
