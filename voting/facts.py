"""What the voting rules need to know about one person and one motion, read in one query.

``voting.rules`` decides who may see a motion and who may vote on it as which unit, over the
``VoterFacts`` read here. Asked one fact at a time (the person's role, residence, household,
audience tags, invitation, removal) that cost ~17 statements and ~8 ms of ORM CPU per ballot;
a 2,000-voter burst paid it 2,000 times (docs/performance.md, "Vote burst"). Here the motion row
and every fact about the person come back in one query, compiled once per process
(``agora.infra.precompiled``). The session facts are the session rules' own
(``sessions.rules.SessionFacts``, from ``sessions.rules.facts_annotations``), so the session
rules are applied by the same functions for a page, a connect and a ballot.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from agora.infra.precompiled import Precompiled
from agora.roster.models import Household, Resident
from agora.roster.roles import AnyUser
from sessions import rules as session_rules
from sessions.rules import FACT_COLUMNS, SessionFacts
from voting.models import Motion, MotionKind

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class VoterFacts:
    """The session facts of the person, and their residence in its community (if any)."""

    user_id: int | None
    session: SessionFacts
    verified: bool
    tenure: str
    household: Household | None  # id, floor area and owner reference only
    owner_area: Decimal | None = None  # Art. 278 motions: the owner's total area in the community


def _facts_query(*, user_id: int, motion_id: int, session_id: int) -> QuerySet[Motion]:
    community = OuterRef("session__community_id")
    resident = Resident.objects.filter(user_id=user_id, community_id=community)
    return Motion.objects.filter(pk=motion_id, session_id=session_id).annotate(
        f_session_state=F("session__state"),
        f_community_id=F("session__community_id"),
        f_resident_verified=Subquery(resident.values("verified")[:1]),
        f_tenure=Subquery(resident.values("tenure")[:1]),
        f_household_id=Subquery(resident.values("household_id")[:1]),
        f_area=Subquery(resident.values("household__exclusive_area")[:1]),
        f_owner_key=Subquery(resident.values("household__owner_key")[:1]),
        **session_rules.facts_annotations(user_id=user_id, session=OuterRef("session_id"), community=community, building=False),
    )


_FACTS = Precompiled(_facts_query, "user_id", "motion_id", "session_id")


class _FactColumns(TypedDict):
    """The columns ``_facts_query`` adds to the motion row (besides the session facts')."""

    f_session_state: str
    f_community_id: int
    f_resident_verified: bool | None
    f_tenure: str | None
    f_household_id: int | None
    f_area: Any  # a Decimal on PostgreSQL, a number on SQLite (``_area``)
    f_owner_key: str | None


if TYPE_CHECKING:
    MotionRow = WithAnnotations[Motion, _FactColumns]


def _area(value: Any) -> Decimal | None:
    # PostgreSQL returns a Decimal; SQLite a number (raw SQL skips the field's converter).
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def owner_key_of(household: Household) -> str:
    """Units held by the same owner share a key; a unit without one is its own owner."""
    return household.owner_key or f"household-{household.pk}"


def owner_area(*, community_id: int, owner_key: str) -> Decimal:
    """The sum of the owner's exclusive floor areas in the community (Art. 278)."""
    if owner_key.startswith("household-"):
        qs = Household.objects.filter(pk=int(owner_key.removeprefix("household-")))
    else:
        qs = Household.objects.filter(building__community_id=community_id, owner_key=owner_key)
    return qs.aggregate(total=Sum("exclusive_area"))["total"] or Decimal("0")


def _facts_of(user: AnyUser, row: MotionRow) -> VoterFacts:
    household = None
    if row.f_household_id is not None:
        household = Household(pk=row.f_household_id, exclusive_area=_area(row.f_area), owner_key=row.f_owner_key or "")
    if user.is_authenticated:
        session = session_rules.facts_from(
            user=user,
            session_id=row.room_id,
            community_id=row.f_community_id,
            state=row.f_session_state,
            values=[getattr(row, column) for column in FACT_COLUMNS],
        )
    else:
        session = session_rules.anonymous_facts(session_id=row.room_id, community_id=row.f_community_id, state=row.f_session_state)
    area = None
    if household is not None and row.kind == MotionKind.ART278:
        area = owner_area(community_id=row.f_community_id, owner_key=owner_key_of(household))
    return VoterFacts(
        user_id=user.pk if user.is_authenticated else None,
        session=session,
        verified=bool(row.f_resident_verified),
        tenure=row.f_tenure or "",
        household=household,
        owner_area=area,
    )


def motion_with_facts(*, user: AnyUser, session_id: int, motion_id: int) -> tuple[Motion, VoterFacts] | None:
    """The motion (if it is in this session) and the person's facts; None if there is no such motion."""
    sql, params = _FACTS.sql(user_id=user.pk if user.is_authenticated else None, motion_id=motion_id, session_id=session_id)
    rows = list(Motion.objects.raw(sql, params))
    if not rows:
        return None
    # raw() sets the annotated columns as attributes, which the ORM's types cannot see.
    row = cast("MotionRow", rows[0])
    return row, _facts_of(user, row)


def facts_read(*, user: AnyUser, motion: Motion) -> VoterFacts:
    """The person's facts for a motion already in hand.

    If the motion was deleted since the caller loaded it (a moderator discarded the draft in
    between), this is "no such motion" for the caller too: ``Http404``, as loading it would
    have been, not a server error.
    """
    found = motion_with_facts(user=user, session_id=motion.room_id, motion_id=motion.pk)
    if found is None:
        raise Http404(_("That motion no longer exists."))
    return found[1]
