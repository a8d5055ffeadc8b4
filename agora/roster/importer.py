"""Importing a community's roster from CSV or XLSX (format: docs/roster-import.md).

All or nothing: every row is checked first; one bad row imports nothing, and every
bad row is reported by line number and reason. Re-importing the same file changes
nothing (rows are matched by their natural keys).

An import changes only the target community: a row may name an existing user only if that user
already belongs to this community and to no other (and is not a district admin). Anyone else —
a resident or moderator of another community, an account with no community here — is a
line-numbered error, never renamed or given a second residency.

A person given by name only (no ``username``) gets an account with a made-up login name, found
again on the next import by their household and name: the moderator prints them an invitation
sheet (agora/roster/invitations.py) instead of handing out a login name.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agora.infra.errors import Refused
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

COLUMNS = (
    "building",
    "unit",
    "room",
    "area",
    "owner_key",
    "username",
    "full_name",
    "tenure",
    "tags",
    "verified",
    "grid",
    "phone",
)
REQUIRED = ("building", "room")
# What a header may say instead (Excel sheets from a residents' committee are in Chinese).
HEADER_ALIASES = {
    "楼栋": "building",
    "楼号": "building",
    "楼": "building",
    "单元": "unit",
    "单元号": "unit",
    "房号": "room",
    "房间号": "room",
    "门牌号": "room",
    "室": "room",
    "面积": "area",
    "专有部分面积": "area",
    "建筑面积": "area",
    "业主编号": "owner_key",
    "产权人编号": "owner_key",
    "owner": "owner_key",
    "用户名": "username",
    "登录名": "username",
    "账号": "username",
    "login": "username",
    "姓名": "full_name",
    "name": "full_name",
    "身份": "tenure",
    "居住类型": "tenure",
    "标签": "tags",
    "核实": "verified",
    "已核实": "verified",
    "网格": "grid",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "联系电话": "phone",
    "telephone": "phone",
    "mobile": "phone",
}
TENURE_WORDS = {"owner": Tenure.OWNER, "业主": Tenure.OWNER, "tenant": Tenure.TENANT, "租户": Tenure.TENANT}
YES = {"yes", "1", "true", "是", "y"}
NO = {"", "no", "0", "false", "否", "n"}
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20000
XLSX_MAGIC = b"PK\x03\x04"


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
    rows: int = 0

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
    phone: str


# --- Reading a file -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """The text of a CSV in the encodings Excel and WPS save: UTF-8 (with or without BOM),
    UTF-16 (Excel's "Unicode text", with a BOM), GB18030 (a superset of GBK, Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    sample = data[:400]
    if b"\x00" in sample:  # UTF-16 without a BOM: every ASCII character (the commas) has a zero byte
        odd_zeros = sample[1::2].count(0)
        return data.decode("utf-16-le" if odd_zeros >= sample[0::2].count(0) else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


Line = tuple[int, list[str]]


def _csv_lines(text: str) -> list[Line]:
    """Every record with the line it starts on (blank lines are counted, then skipped)."""
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    lines: list[Line] = []
    start = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            lines.append((start, record))
        start = reader.line_num + 1
    return lines


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_lines(data: bytes) -> list[Line]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        lines: list[Line] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                lines.append((number, cells))
            if len(lines) > MAX_ROWS + 1:
                break
        return lines
    finally:
        book.close()


def roster_lines(data: bytes) -> list[Line]:
    """The rows of an uploaded roster file (CSV in any usual encoding, or an XLSX workbook's first
    sheet), each with its line number as the person sees it in their editor or in Excel."""
    if len(data) > MAX_BYTES:
        raise Refused(gettext_lazy("The file is larger than 5 MB. Split the roster into several files."), code="too_large")
    if not data.strip():
        raise Refused(gettext_lazy("The file is empty."), code="empty")
    if data.startswith(XLSX_MAGIC):
        try:
            return _xlsx_lines(data)
        except Exception as exc:  # noqa: BLE001 — any damage to the workbook reads the same to a person
            raise Refused(gettext_lazy("This Excel file cannot be read. Save it again as .xlsx, or as CSV."), code="bad_xlsx") from exc
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        raise Refused(
            gettext_lazy("This file is not a text file in UTF-8, GBK or UTF-16. Save it from Excel as CSV or as .xlsx."),
            code="bad_encoding",
        ) from exc
    if "\x00" in text:
        raise Refused(gettext_lazy("This file is not a CSV or an .xlsx workbook."), code="not_text")
    return _csv_lines(text)


# --- Checking rows ------------------------------------------------------------------------------


def _header_name(raw: str) -> str:
    name = raw.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")
    return HEADER_ALIASES.get(name, HEADER_ALIASES.get(raw.strip(), name))


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


def _tag_slugs() -> dict[str, str]:
    """Every way a tag may be written (short name, Chinese, English) → its short name."""
    names: dict[str, str] = {}
    for tag in Tag.objects.all():
        for word in (tag.slug, tag.name_zh, tag.name_en.lower()):
            names[word] = tag.slug
    return names


def _header(lines: Sequence[Line], report: ImportReport) -> list[str] | None:
    header_line, raw_header = lines[0]
    header = [_header_name(h) for h in raw_header]
    while header and not header[-1]:  # trailing commas
        header.pop()
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    doubled = sorted({h for h in header if h and header.count(h) > 1})
    if missing:
        report.errors.append(RowError(header_line, _("missing columns: %(cols)s") % {"cols": ", ".join(missing)}))
    if unknown:
        report.errors.append(RowError(header_line, _("unknown columns: %(cols)s") % {"cols": ", ".join(unknown)}))
    if doubled:
        report.errors.append(RowError(header_line, _("columns named twice: %(cols)s") % {"cols": ", ".join(doubled)}))
    return None if (missing or unknown or doubled) else header


def _parse(lines: Sequence[Line], report: ImportReport, community: Community) -> list[_Row]:
    if not lines:
        report.errors.append(RowError(1, _("the file has no header row")))
        return []
    header = _header(lines, report)
    if header is None:
        return []
    if len(lines) - 1 > MAX_ROWS:
        report.errors.append(RowError(lines[0][0], _("more than %(n)d rows: split the roster into several files") % {"n": MAX_ROWS}))
        return []
    tag_slugs = _tag_slugs()
    rows: list[_Row] = []
    seen_addresses: dict[tuple[str, str, str], int] = {}
    seen_users: dict[str, int] = {}
    seen_people: dict[tuple[tuple[str, str, str], str], int] = {}
    household_facts: dict[tuple[str, str, str], tuple[int, Decimal | None, str]] = {}
    for line, record in lines[1:]:
        report.rows += 1
        problems: list[str] = []
        extra = [c for c in record[len(header) :] if c.strip()]
        if extra:
            problems.append(_("more cells than columns: %(cells)s") % {"cells": ", ".join(extra)})
        values = {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)}

        def get(name: str, values: dict[str, str] = values) -> str:
            return values.get(name, "")

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
        username, full_name = get("username"), get("full_name")
        person = bool(username or full_name)
        tenure_raw = get("tenure")
        tenure = TENURE_WORDS.get(tenure_raw.lower(), "")
        if person and not tenure:
            problems.append(_("tenure must be “owner” or “tenant”, not “%(value)s”") % {"value": tenure_raw})
        if tenure_raw and not person:
            problems.append(_("a tenure is given but no username"))
        tags_raw = [t.strip() for t in get("tags").replace("｜", "|").split("|") if t.strip()]
        bad_tags = [t for t in tags_raw if t.lower() not in tag_slugs and t not in tag_slugs]
        if bad_tags:
            problems.append(_("unknown tags: %(tags)s") % {"tags": ", ".join(bad_tags)})
        tags = sorted({tag_slugs.get(t, tag_slugs.get(t.lower(), "")) for t in tags_raw} - {""})
        verified_raw = get("verified").lower()
        if verified_raw not in YES | NO:
            problems.append(_("verified must be yes or no"))
        phone = get("phone")
        if len(phone) > 20:
            problems.append(_("the phone number “%(value)s” is longer than 20 characters") % {"value": phone})
        if len(username) > 150 or len(full_name) > 150:
            problems.append(_("a name is longer than 150 characters"))
        address = (building, unit, room)
        if username:
            if username in seen_users:
                problems.append(_("user %(user)s is already on line %(line)d") % {"user": username, "line": seen_users[username]})
            seen_users.setdefault(username, line)
        elif full_name:
            key = (address, full_name)
            if key in seen_people:
                problems.append(_("%(name)s of this household is already on line %(line)d") % {"name": full_name, "line": seen_people[key]})
            seen_people.setdefault(key, line)
        elif address in seen_addresses:
            problems.append(_("the same household is already on line %(line)d") % {"line": seen_addresses[address]})
        seen_addresses.setdefault(address, line)
        # One household, one area and one owner reference: rows of its people must agree.
        if building and room:
            first = household_facts.get(address)
            if first is None:
                household_facts[address] = (line, area, get("owner_key"))
            else:
                first_line, first_area, first_key = first
                if area is not None and first_area is not None and area != first_area:
                    problems.append(
                        _("the area %(area)s m² differs from %(first)s m² on line %(line)d for the same room")
                        % {"area": area, "first": first_area, "line": first_line}
                    )
                elif area is not None and first_area is None:
                    household_facts[address] = (first_line, area, first_key)
                if get("owner_key") and first_key and get("owner_key") != first_key:
                    problems.append(
                        _("the owner reference %(key)s differs from %(first)s on line %(line)d for the same room")
                        % {"key": get("owner_key"), "first": first_key, "line": first_line}
                    )
                elif get("owner_key") and not first_key:
                    household_facts[address] = (first_line, household_facts[address][1], get("owner_key"))
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
                    full_name,
                    tenure,
                    tags,
                    verified_raw in YES,
                    get("grid"),
                    phone,
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
    # Every row of a household carries the household's facts, wherever in the file they were given.
    for row in rows:
        _first, row.area, row.owner_key = household_facts[(row.building, row.unit, row.room)]
    return [row for row in rows if row.username not in outside]


class _DryRun(Exception):
    """Raised inside the import's transaction to undo it: what a preview would change."""


def _new_username(community: Community) -> str:
    User = get_user_model()
    while True:
        name = f"{community.slug[:20]}-{secrets.token_hex(4)}"
        if not User.objects.filter(username=name).exists():
            return name


def _write(rows: Iterable[_Row], community: Community, report: ImportReport, by: Any) -> None:
    User = get_user_model()
    tags = {t.slug: t for t in Tag.objects.all()}
    done_households: set[int] = set()
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
        elif household.pk not in done_households and (household.exclusive_area, household.owner_key) != (row.area, row.owner_key):
            household.exclusive_area, household.owner_key = row.area, row.owner_key
            household.save(update_fields=["exclusive_area", "owner_key"])
            report.count(report.updated, "household")
        done_households.add(household.pk)
        if not row.username and not row.full_name:
            continue
        if row.username:
            user, made = User.objects.get_or_create(username=row.username, defaults={"first_name": row.full_name})
        else:
            # A person by name only: the same name in the same household is the same person.
            known = (
                Resident.objects.filter(household=household, community=community, user__first_name=row.full_name)
                .select_related("user")
                .first()
            )
            made = known is None
            user = User.objects.create(username=_new_username(community), first_name=row.full_name) if known is None else known.user
        if made:
            user.set_unusable_password()
            user.save()
            report.count(report.created, "user")
        elif row.full_name and user.first_name != row.full_name:
            user.first_name = row.full_name
            user.save(update_fields=["first_name"])
            report.count(report.updated, "user")
        resident, made = Resident.objects.get_or_create(
            user=user,
            community=community,
            defaults={"household": household, "tenure": row.tenure, "verified": row.verified, "phone": row.phone},
        )
        if made:
            report.count(report.created, "resident")
        elif (resident.household_id, resident.tenure, resident.verified, resident.phone) != (
            household.pk,
            row.tenure,
            row.verified,
            row.phone,
        ):
            resident.household, resident.tenure, resident.verified, resident.phone = household, row.tenure, row.verified, row.phone
            resident.save()
            report.count(report.updated, "resident")
        wanted = {tags[s].pk for s in row.tags}
        if set(resident.tags.values_list("pk", flat=True)) != wanted:
            resident.tags.set(wanted)
            if not made:
                report.count(report.updated, "resident tags")


def roster_import(
    *, community: Community, text: str | None = None, lines: Sequence[Line] | None = None, by: Any = None, dry_run: bool = False
) -> ImportReport:
    """Check every row, then write all of them or none. ``dry_run``: write inside a transaction
    that is undone, so the report says what the import would change (the preview).

    Every change it makes is in the audit log, by ``by`` (the command has no user) via
    ``import_roster`` (agora/roster/changes.py)."""
    report = ImportReport()
    if lines is None:
        lines = _csv_lines((text or "").lstrip("\ufeff"))
    rows = _parse(lines, report, community)
    if report.errors:
        return report
    try:
        with transaction.atomic(), roster_changes_by(actor=by, via="import_roster"):
            _write(rows, community, report, by)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report
