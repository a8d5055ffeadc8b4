"""Importing a community's roster from CSV (format: docs/roster-import.md).

All or nothing: every row is checked first; one bad row imports nothing, and every
bad row is reported by line number and reason. Re-importing the same file changes
nothing (rows are matched by their natural keys).

An import changes only the target community: a row may name an existing user only if that user
already belongs to this community and to no other (and is not a district admin). Anyone else —
a resident or moderator of another community, an account with no community here — is a
line-numbered error, never renamed or given a second residency.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from agora.roster.changes import roster_changes_by
from agora.roster.models import (
    Building,
    Community,
    Grid,
    Household,
    Resident,
    Tag,
    Tenure,
)

COLUMNS = ("building", "unit", "room", "area", "owner_key", "username", "full_name", "tenure", "tags", "verified", "grid")
REQUIRED = ("building", "room")


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


@dataclass
class _Row:
    line: int
    building: str
    unit: str
    room: str
    area: Decimal | None
    owner_key: str
    username: str
    full_name: str
    tenure: str
    tags: list[str]
    verified: bool
    grid: str


def _accounts_outside(community: Community, usernames: set[str]) -> set[str]:
    """The existing users among ``usernames`` that this community's import must not touch."""
    User = get_user_model()
    users = User.objects.filter(username__in=usernames).prefetch_related("residencies", "memberships")
    outside: set[str] = set()
    for user in users:
        ties = {r.community_id for r in user.residencies.all()} | {m.community_id for m in user.memberships.all()}
        if user.is_superuser or ties != {community.pk}:
            outside.add(user.get_username())
    return outside


def _cell(raw: dict[str, Any], name: str) -> str:
    """One cell of a CSV row, stripped; an absent column reads as empty."""
    return (raw.get(name) or "").strip()


def _parse(text: str, report: ImportReport, community: Community) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        if missing:
            report.errors.append(RowError(1, _("missing columns: %(cols)s") % {"cols": ", ".join(missing)}))
        if unknown:
            report.errors.append(RowError(1, _("unknown columns: %(cols)s") % {"cols": ", ".join(unknown)}))
        return []
    known_tags = set(Tag.objects.values_list("slug", flat=True))
    rows: list[_Row] = []
    seen_addresses: dict[tuple[str, str, str], int] = {}
    seen_users: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        get = functools.partial(_cell, raw)
        problems: list[str] = []
        building, unit, room = get("building"), get("unit"), get("room")
        if not building:
            problems.append(_("building is empty"))
        if not room:
            problems.append(_("room is empty"))
        area: Decimal | None = None
        if get("area"):
            try:
                area = Decimal(get("area"))
                if area < 0 or area != area or area > Decimal("9999999"):
                    raise InvalidOperation
                area = area.quantize(Decimal("0.01"))
            except InvalidOperation:
                problems.append(_("area “%(value)s” is not a non-negative number of m²") % {"value": get("area")})
                area = None
        tenure = get("tenure") or ""
        username = get("username")
        if username and tenure not in Tenure.values:
            problems.append(_("tenure must be “owner” or “tenant”, not “%(value)s”") % {"value": tenure})
        if tenure and not username:
            problems.append(_("a tenure is given but no username"))
        tags = [t.strip() for t in get("tags").split("|") if t.strip()]
        bad_tags = [t for t in tags if t not in known_tags]
        if bad_tags:
            problems.append(_("unknown tags: %(tags)s") % {"tags": ", ".join(bad_tags)})
        verified_raw = get("verified").lower()
        if verified_raw not in {"", "yes", "no", "1", "0", "true", "false"}:
            problems.append(_("verified must be yes or no"))
        address = (building, unit, room)
        if username:
            if username in seen_users:
                problems.append(_("user %(user)s is already on line %(line)d") % {"user": username, "line": seen_users[username]})
            seen_users.setdefault(username, line)
        elif address in seen_addresses:
            problems.append(_("the same household is already on line %(line)d") % {"line": seen_addresses[address]})
        seen_addresses.setdefault(address, line)
        for problem in problems:
            report.errors.append(RowError(line, problem))
        if not problems:
            rows.append(
                _Row(
                    line,
                    building,
                    unit,
                    room,
                    area,
                    get("owner_key"),
                    username,
                    get("full_name"),
                    tenure,
                    tags,
                    verified_raw in {"yes", "1", "true"},
                    get("grid"),
                )
            )
    outside = _accounts_outside(community, set(seen_users))
    for username in sorted(outside, key=seen_users.__getitem__):
        report.errors.append(
            RowError(
                seen_users[username],
                _(
                    "user %(user)s already exists outside this community; an import never changes another community's account (use another username, or ask the district office)"
                )
                % {"user": username},
            )
        )
    report.errors.sort(key=lambda e: e.line)
    return [row for row in rows if row.username not in outside]


def roster_import(*, community: Community, text: str, by: Any = None) -> ImportReport:
    """Every change it makes is in the audit log, by ``by`` (the command has no user) via
    ``import_roster`` (agora/roster/changes.py)."""
    report = ImportReport()
    rows = _parse(text, report, community)
    if report.errors:
        return report
    User = get_user_model()
    tags = {t.slug: t for t in Tag.objects.all()}
    with transaction.atomic(), roster_changes_by(actor=by, via="import_roster"):
        for row in rows:
            grid = None
            if row.grid:
                grid, made = Grid.objects.get_or_create(community=community, name=row.grid)
                if made:
                    report.count(report.created, "grid")
            building, made = Building.objects.get_or_create(community=community, name=row.building, defaults={"grid": grid})
            if made:
                report.count(report.created, "building")
            elif grid and building.grid_id != grid.pk:
                building.grid = grid
                building.save(update_fields=["grid"])
                report.count(report.updated, "building")
            household, made = Household.objects.get_or_create(
                building=building, unit=row.unit, room=row.room, defaults={"exclusive_area": row.area, "owner_key": row.owner_key}
            )
            if made:
                report.count(report.created, "household")
            elif (household.exclusive_area, household.owner_key) != (row.area, row.owner_key):
                household.exclusive_area, household.owner_key = row.area, row.owner_key
                household.save(update_fields=["exclusive_area", "owner_key"])
                report.count(report.updated, "household")
            if not row.username:
                continue
            user, made = User.objects.get_or_create(username=row.username, defaults={"first_name": row.full_name})
            if made:
                user.set_unusable_password()
                user.save()
                report.count(report.created, "user")
            elif row.full_name and user.first_name != row.full_name:
                user.first_name = row.full_name
                user.save(update_fields=["first_name"])
                report.count(report.updated, "user")
            resident, made = Resident.objects.get_or_create(
                user=user, community=community, defaults={"household": household, "tenure": row.tenure, "verified": row.verified}
            )
            if made:
                report.count(report.created, "resident")
            elif (resident.household_id, resident.tenure, resident.verified) != (household.pk, row.tenure, row.verified):
                resident.household, resident.tenure, resident.verified = household, row.tenure, row.verified
                resident.save()
                report.count(report.updated, "resident")
            wanted = {tags[s].pk for s in row.tags}
            if set(resident.tags.values_list("pk", flat=True)) != wanted:
                resident.tags.set(wanted)
                if not made:
                    report.count(report.updated, "resident tags")
    return report
