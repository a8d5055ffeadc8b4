"""Re-compute every community's minutes chain; name the first altered, missing or re-ordered record."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agora.roster.models import Community
from records.verification import chain_verify


class Command(BaseCommand):
    help = "Verify the hash chain of published minutes (all communities, or one with --community)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", help="slug of one community")

    def handle(self, *args: Any, **options: Any) -> None:
        communities = Community.objects.order_by("slug")
        if options.get("community"):
            communities = communities.filter(slug=options["community"])
            if not communities.exists():
                raise CommandError(f"no community with slug {options['community']!r}")
        failures = 0
        for community in communities:
            verdict = chain_verify(community=community)
            if verdict.ok:
                if verdict.count or options.get("community"):
                    self.stdout.write(f"{community.slug}: OK, {verdict.count} record(s), head {verdict.head_hash}")
                continue
            failures += 1
            problem = verdict.problem
            assert problem is not None
            where = f"record id {problem.record_id} (position {problem.seq})" if problem.record_id else f"position {problem.seq}"
            self.stderr.write(f"{community.slug}: {problem.kind.upper()} {where}: {problem.detail}")
        if failures:
            raise CommandError(f"{failures} chain(s) failed verification")
