from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def _sources(po_path: Path) -> list[Path]:
    """The catalog and its parts: ``LC_MESSAGES/parts/*.po`` hold the entries of one feature each
    (so that features written side by side never edit one file), merged into the catalog's .mo;
    an entry of the catalog itself wins over a part's."""
    parts = po_path.parent / "parts"
    return [po_path, *sorted(parts.glob("*.po"))] if parts.is_dir() else [po_path]


class Command(BaseCommand):
    help = "Compile every app's .po catalog (and its parts) to .mo with polib (no system gettext needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        count = 0
        catalogs = [p for p in root.rglob("locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts]
        for po_path in sorted(catalogs):
            mo_path = po_path.with_suffix(".mo")
            sources = _sources(po_path)
            # Always compiled (a second for all): a fresh clone's file times say nothing of which is newer.
            catalog = polib.pofile(str(po_path))
            seen = {(e.msgctxt, e.msgid) for e in catalog}
            for part in sources[1:]:
                for entry in polib.pofile(str(part)):
                    if (entry.msgctxt, entry.msgid) not in seen and not entry.obsolete:
                        catalog.append(entry)
                        seen.add((entry.msgctxt, entry.msgid))
            catalog.save_as_mofile(str(mo_path))
            count += 1
        self.stdout.write(f"compiled {count} catalog(s)")
