"""Reads for the archive, minutes pages, follow-up and the needs list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from agora.roster.models import Community, Membership, Role
from agora.roster.roles import AnyUser, member_community_ids
from records import search
from records.models import (
    ActionItem,
    ActionStatus,
    MinutesRecord,
    Need,
    NeedStatus,
    RecordKind,
    SatisfactionRating,
)
from records.rules import readable_records

SATISFIED_FROM = 4  # a rating of 4 or 5 counts as satisfied (the "satisfaction rate")


def superseded_ids() -> list[int]:
    """Records that a later correction replaced. Corrections are rare, so this reads only the
    few sessions that have one (index on kind), instead of probing every record."""
    corrected = MinutesRecord.objects.filter(kind=RecordKind.CORRECTION).values("session_id")
    rows = list(MinutesRecord.objects.filter(session_id__in=corrected).values_list("session_id", "pk", "seq"))
    newest: dict[int, int] = {}
    for session_id, _pk, seq in rows:
        newest[session_id] = max(seq, newest.get(session_id, 0))
    return [pk for session_id, pk, seq in rows if seq != newest[session_id]]


def current_only(qs: QuerySet[MinutesRecord]) -> QuerySet[MinutesRecord]:
    """The newest version per session: a corrected record gives way to its correction."""
    superseded = superseded_ids()
    return qs.exclude(pk__in=superseded) if superseded else qs


class RankedRecords(Sequence[MinutesRecord]):
    """Search results as an ordered list of ids; a page's records are fetched when sliced.

    One query finds and ranks every match (ids only), so the paginator's count costs nothing
    more; then one query loads the 20 records of the page.
    """

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def _load(self, ids: list[int]) -> list[MinutesRecord]:
        found = MinutesRecord.objects.select_related("community").defer("canonical").in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]

    def __iter__(self) -> Iterator[MinutesRecord]:
        return iter(self._load(self.ids))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self._load(self.ids[index])
        return self._load([self.ids[index]])[0]


@dataclass(frozen=True)
class ArchiveFilters:
    community: str = ""
    year: int | None = None
    month: int | None = None
    category: str = ""
    outcome: str = ""
    q: str = ""


def archive_records(*, user: AnyUser, filters: ArchiveFilters) -> tuple[QuerySet[MinutesRecord] | RankedRecords, search.Query]:
    """The archive list (or search results), newest first; search results rank title hits first."""
    qs = current_only(readable_records(user=user))
    if filters.community:
        qs = qs.filter(community__slug=filters.community)
    if filters.year:
        if filters.month:
            start = date(filters.year, filters.month, 1)
            end = date(filters.year + (filters.month == 12), filters.month % 12 + 1, 1)
        else:
            start, end = date(filters.year, 1, 1), date(filters.year + 1, 1, 1)
        qs = qs.filter(held_on__gte=start, held_on__lt=end)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    query = search.parse_query(filters.q)
    if query.empty:
        return qs.select_related("community").defer("canonical").order_by("-held_on", "-pk"), query
    # Index lookup: only the rows of the query's tokens are read ((token, record) index).
    if len(query.tokens) == 1:
        matches = qs.filter(search_tokens__token=query.tokens[0]).annotate(
            title_hits=Case(
                When(search_tokens__fields__in=search.TITLE_VALUES, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
    else:
        # All tokens must be there: group the token rows per record.
        matches = (
            qs.filter(search_tokens__token__in=query.tokens)
            .annotate(
                hits=Count("search_tokens"),
                title_hits=Sum(
                    Case(When(search_tokens__fields__in=search.TITLE_VALUES, then=Value(1)), default=Value(0), output_field=IntegerField())
                ),
            )
            .filter(hits=len(query.tokens))
        )
    # The database ranks; only ids cross over (one query: the paginator's count is len(ids)).
    ids = list(matches.order_by("-title_hits", "-held_on", "-pk").values_list("pk", flat=True))
    return RankedRecords(ids), query


def archive_facets(*, user: AnyUser) -> dict[str, Any]:
    """Choices for the archive filters: communities that have readable minutes, and the years."""
    readable = readable_records(user=user)
    has_minutes = Exists(readable.filter(community_id=OuterRef("pk")))
    span = readable.aggregate(first=Min("held_on"), last=Max("held_on"))
    years = list(range(span["last"].year, span["first"].year - 1, -1)) if span["first"] else []
    return {
        "communities": list(Community.objects.filter(has_minutes).order_by("name").values("slug", "name")),
        "years": years,
    }


def satisfaction_by_session(*, session_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Average, count and share of satisfied ratings per session (over its action items)."""
    out: dict[int, dict[str, Any]] = {}
    rows = (
        SatisfactionRating.objects.filter(item__session_id__in=session_ids)
        .values("item__session_id")
        .annotate(n=Count("pk"), avg=Avg("score"), satisfied=Count("pk", filter=Q(score__gte=SATISFIED_FROM)))
    )
    for row in rows:
        out[row["item__session_id"]] = _rate(row["n"], row["avg"], row["satisfied"])
    return out


def satisfaction_by_resolution(*, resolution_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The rate over the action items of each resolution (what residents think of its follow-up)."""
    out: dict[int, dict[str, Any]] = {}
    rows = (
        SatisfactionRating.objects.filter(item__resolution_id__in=resolution_ids)
        .values("item__resolution_id")
        .annotate(n=Count("pk"), avg=Avg("score"), satisfied=Count("pk", filter=Q(score__gte=SATISFIED_FROM)))
    )
    for row in rows:
        out[row["item__resolution_id"]] = _rate(row["n"], row["avg"], row["satisfied"])
    return out


def _rate(n: int, avg: float | None, satisfied: int) -> dict[str, Any]:
    return {
        "count": n,
        "average": round(float(avg or 0), 1),
        "percent": round(100 * satisfied / n) if n else 0,
    }


def satisfaction_by_item(*, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    rows = (
        SatisfactionRating.objects.filter(item_id__in=item_ids)
        .values("item_id")
        .annotate(n=Count("pk"), avg=Avg("score"), satisfied=Count("pk", filter=Q(score__gte=SATISFIED_FROM)))
    )
    for row in rows:
        out[row["item_id"]] = _rate(row["n"], row["avg"], row["satisfied"])
    return out


def search_excerpts(*, record: MinutesRecord, query: search.Query, width: int = 90) -> list[dict[str, Any]]:
    """Where the query occurs in a record: up to three highlighted excerpts, by field."""
    excerpts: list[dict[str, Any]] = []
    labels = {
        search.FIELD_SUMMARY: "summary",
        search.FIELD_RESOLUTION: "resolution",
        search.FIELD_TRANSCRIPT: "transcript",
    }
    texts = search.search_texts(record.content)
    for field in (search.FIELD_SUMMARY, search.FIELD_RESOLUTION, search.FIELD_TRANSCRIPT):
        for line in texts[field].split("\n"):
            segments = search.highlight(line, query, width=width)
            if segments:
                excerpts.append({"field": labels[field], "segments": segments})
                break
        if len(excerpts) >= 2:
            break
    return excerpts


def versions(*, record: MinutesRecord) -> list[MinutesRecord]:
    """Every published version of the same session's minutes, oldest first."""
    return list(
        MinutesRecord.objects.filter(session_id=record.session_id, community_id=record.community_id).defer("canonical").order_by("seq")
    )


def overdue_items(*, user: User, today: date | None = None) -> QuerySet[ActionItem]:
    """Open items past their due date in the communities the user moderates."""
    today = today or timezone.localdate()
    qs = ActionItem.objects.filter(status__in=[ActionStatus.PENDING, ActionStatus.IN_PROGRESS], due_on__lt=today).select_related(
        "session__community", "owner"
    )
    if not user.is_superuser:
        moderated = Membership.objects.filter(user=user, role=Role.MODERATOR).values("community_id")
        qs = qs.filter(session__community_id__in=moderated)
    return qs.order_by("due_on", "pk")


def open_items(*, user: User) -> QuerySet[ActionItem]:
    qs = ActionItem.objects.filter(status__in=[ActionStatus.PENDING, ActionStatus.IN_PROGRESS]).select_related(
        "session__community", "owner"
    )
    if not user.is_superuser:
        moderated = Membership.objects.filter(user=user, role=Role.MODERATOR).values("community_id")
        qs = qs.filter(session__community_id__in=moderated)
    return qs.order_by("due_on", "pk")


def needs_for(*, community: Community, status: str = "") -> QuerySet[Need]:
    qs = (
        Need.objects.filter(community=community)
        .select_related("building", "session", "merged_into")
        .annotate(support_count=Count("supports", distinct=True))
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-support_count", "-created_at", "-pk") if status == NeedStatus.OPEN else qs.order_by("-created_at", "-pk")


def needs_communities(*, user: AnyUser) -> list[Community]:
    """The communities whose needs list the user may read (``rules.can_view_needs``), by name."""
    ids = member_community_ids(user=user)
    return list((Community.objects.all() if ids is None else Community.objects.filter(pk__in=ids)).order_by("name"))


def home_digest(*, user: AnyUser, minutes: int = 4, resolutions: int = 5) -> dict[str, list[dict[str, Any]]]:
    """What the home page shows a visitor: the latest minutes they may read (notices of what was
    decided, newest first) and the resolutions in them. Reads only the listing's columns, then
    the content of those few records."""
    records = list(current_only(readable_records(user=user)).select_related("community").order_by("-published_at", "-pk")[:minutes])
    notices = [{"record": r, "community": r.community.name} for r in records]
    decided: list[dict[str, Any]] = []
    for record in records:
        for resolution in record.content.get("resolutions", []):
            if len(decided) < resolutions:
                decided.append({"record": record, "text": resolution.get("text", ""), "outcome": resolution.get("outcome", "")})
    return {"notices": notices, "resolutions": decided}
