"""Verifying published minutes against the database (the pure chain walk is in chain.py).

The hash covers the canonical content only. Everything else a reader is shown or a page
decides with comes from columns (title, category, outcome, visibility, kind, held_on,
published_at, published_by, session): each must agree with what was sealed, by the rule
of the version the record was sealed with (``minutes.schema``; docs/decisions.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from agora.infra import hashchain as chain
from agora.infra.isotime import iso_utc
from agora.roster.models import Community
from agora.roster.names import display_name
from records.content import SCHEMA, SCHEMA_V1, outcome_of
from records.models import ChainHead, MinutesRecord

_COLUMNS = (
    "pk",
    "seq",
    "prev_hash",
    "content_hash",
    "canonical",
    "title",
    "category",
    "outcome",
    "visibility",
    "kind",
    "session_id",
    "held_on",
    "published_at",
    "published_by_id",
)


@dataclass(frozen=True)
class Columns:
    """The columns of one row that a reader is shown or a page decides with."""

    title: str
    category: str
    outcome: str
    visibility: str
    kind: str
    session_id: int
    held_on: date
    published_at: datetime
    published_by_id: int
    published_by_name: str  # the account's display name now (version 1 sealed only the name)


def _v1_held_on(starts_at: str) -> str:
    """Version 1 set held_on to the local date of the sealed start (site time zone)."""
    start = datetime.fromisoformat(starts_at.replace("Z", "+00:00"))
    return timezone.localdate(start, timezone.get_default_timezone()).isoformat()


def columns_problem(*, minutes: dict[str, Any], columns: Columns) -> str | None:
    """Name the first column that differs from the sealed content; None when all agree. Pure."""
    try:
        return _columns_problem(minutes=minutes, columns=columns)
    except (KeyError, TypeError, AttributeError, ValueError):
        return "content is not a minutes record"


def _columns_problem(*, minutes: dict[str, Any], columns: Columns) -> str | None:
    schema = minutes.get("schema")
    if schema not in {SCHEMA_V1, SCHEMA}:
        return f"sealed with an unknown version {schema!r}"
    session = minutes["session"]
    expected: list[tuple[str, Any, Any]] = [
        ("title", session["title"], columns.title),
        ("category", session["category"], columns.category),
        ("outcome", outcome_of(minutes), columns.outcome),
        ("visibility", minutes["visibility"], columns.visibility),
        ("kind", minutes["kind"], columns.kind),
        ("session", session["id"], columns.session_id),
        ("published_at", minutes["published_at"], iso_utc(columns.published_at)),
    ]
    if schema == SCHEMA_V1:
        expected += [
            ("held_on", _v1_held_on(session["starts_at"]), columns.held_on.isoformat()),
            # Version 1 sealed the publisher's name only: the account must still carry it.
            ("published_by", minutes["published_by"], columns.published_by_name),
        ]
    else:
        expected += [
            ("held_on", minutes["held_on"], columns.held_on.isoformat()),
            ("published_by", minutes["published_by_id"], columns.published_by_id),
        ]
    for name, sealed, stored in expected:
        if sealed != stored:
            return f"the {name} column differs from the sealed content"
    return None


def _names(user_ids: set[int]) -> dict[int, str]:
    return {u.pk: display_name(u) for u in get_user_model().objects.filter(pk__in=user_ids)}


def _columns(row: dict[str, Any], names: dict[int, str]) -> Columns:
    return Columns(
        title=row["title"],
        category=row["category"],
        outcome=row["outcome"],
        visibility=row["visibility"],
        kind=row["kind"],
        session_id=row["session_id"],
        held_on=row["held_on"],
        published_at=row["published_at"],
        published_by_id=row["published_by_id"],
        published_by_name=names.get(row["published_by_id"], ""),
    )


def chain_verify(*, community: Community) -> chain.Verdict:
    """Walk the chain; then check that every column a reader is shown agrees with the sealed content."""
    rows = list(MinutesRecord.objects.filter(community=community).order_by("seq", "pk").values(*_COLUMNS))
    head = ChainHead.objects.filter(community=community).values_list("head_hash", "length").first()
    verdict = chain.verify(
        community=community.slug,
        records=[_stored(r) for r in rows],
        head_hash=head[0] if head else None,
        head_count=head[1] if head else (0 if rows else None),
    )
    if not verdict.ok:
        return verdict
    names = _names({r["published_by_id"] for r in rows})
    for row in rows:
        detail = columns_problem(minutes=json.loads(row["canonical"])["minutes"], columns=_columns(row, names))
        if detail:
            return chain.Verdict(False, "", verdict.count, chain.Problem("altered", row["pk"], row["seq"], detail))
    return verdict


def _stored(row: dict[str, Any]) -> chain.StoredRecord:
    return chain.StoredRecord(
        id=row["pk"], seq=row["seq"], prev_hash=row["prev_hash"], content_hash=row["content_hash"], canonical=row["canonical"]
    )


def record_verify(*, record: MinutesRecord) -> chain.Problem | None:
    """What a record's page can check in a few small reads: its hash, its place, the link from
    the next record (or the head) to it, and its columns. ``verify_minutes`` walks the whole chain."""
    row = {name: getattr(record, "pk" if name == "pk" else name) for name in _COLUMNS}
    stored = _stored(row)
    problem = chain.check_record(community=record.community.slug, record=stored)
    if problem is not None:
        return problem
    following = (
        MinutesRecord.objects.filter(community_id=record.community_id, seq=record.seq + 1).values_list("prev_hash", flat=True).first()
    )
    if following is None:
        head = ChainHead.objects.filter(community_id=record.community_id).values_list("head_hash", flat=True).first()
        if head != record.content_hash:
            return chain.Problem("altered", record.pk, record.seq, "the chain head does not lead to this record")
    elif following != record.content_hash:
        return chain.Problem("altered", record.pk, record.seq, "the next record links to a different hash")
    detail = columns_problem(minutes=record.content, columns=_columns(row, _names({record.published_by_id})))
    return chain.Problem("altered", record.pk, record.seq, detail) if detail else None
