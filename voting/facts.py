"""What the voting rules need to know about one person and one motion, read in one query.

``voting.rules`` decides who may see a motion and who may vote on it as which unit. Asked one
fact at a time (the person's role, residence, household, audience tags, invitation, removal)
that cost ~17 statements and ~8 ms of ORM CPU per ballot; a 2,000-voter burst paid it 2,000
times (docs/performance.md, "Vote burst"). Here the motion row and every fact about the person
come back in one query, compiled once per process (``agora.infra.precompiled``). The session facts
are the live admission's (``sessions.admission.Standing``), so the session rules are applied
by the same functions for a connect and for a ballot.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from agora.infra.precompiled import Precompiled
from agora.roster.models import Household, Membership, Resident
from agora.roster.roles import AnyUser
from sessions.admission import Standing
from sessions.models import Participant, TopicSession
from voting.models import Motion


@dataclass(frozen=True)
class VoterFacts:
    """The session standing of the person, and their residence in its community (if any)."""

    session: Standing
    verified: bool
    tenure: str
    household: Household | None  # id, floor area and owner reference only


def _facts_query(*, user_id: int, motion_id: int, session_id: int) -> QuerySet[Motion]:
    session = OuterRef("session_id")
    community = OuterRef("session__community_id")
    resident = Resident.objects.filter(user_id=user_id, community_id=community)
    audience = TopicSession.audience_tags.through.objects.filter(topicsession_id=session)
    return Motion.objects.filter(pk=motion_id, session_id=session_id).annotate(
        f_session_state=F("session__state"),
        f_community_id=F("session__community_id"),
        f_membership_role=Subquery(Membership.objects.filter(user_id=user_id, community_id=community).values("role")[:1]),
        f_resident_verified=Subquery(resident.values("verified")[:1]),
        f_tenure=Subquery(resident.values("tenure")[:1]),
        f_household_id=Subquery(resident.values("household_id")[:1]),
        f_area=Subquery(resident.values("household__exclusive_area")[:1]),
        f_owner_key=Subquery(resident.values("household__owner_key")[:1]),
        f_has_audience=Exists(audience),
        f_tag_match=Exists(audience.filter(tag__residents__user_id=user_id, tag__residents__community_id=community)),
        f_invited=Exists(TopicSession.observers.through.objects.filter(topicsession_id=session, user_id=user_id)),
        f_removed=Exists(Participant.objects.filter(session_id=session, user_id=user_id, removed=True)),
    )


_FACTS = Precompiled(_facts_query, "user_id", "motion_id", "session_id")


def _area(value: Any) -> Decimal | None:
    # PostgreSQL returns a Decimal; SQLite a number (raw SQL skips the field's converter).
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _facts_of(row: Motion) -> VoterFacts:
    household = None
    if row.f_household_id is not None:
        household = Household(pk=row.f_household_id, exclusive_area=_area(row.f_area), owner_key=row.f_owner_key or "")
    return VoterFacts(
        session=Standing(
            session_id=row.session_id,
            community_id=row.f_community_id,
            state=row.f_session_state,
            membership_role=row.f_membership_role,
            is_resident=row.f_household_id is not None,
            building="",
            audience_open=not row.f_has_audience,
            tag_match=bool(row.f_tag_match),
            invited=bool(row.f_invited),
            removed=bool(row.f_removed),
        ),
        verified=bool(row.f_resident_verified),
        tenure=row.f_tenure or "",
        household=household,
    )


def motion_with_facts(*, user: AnyUser, session_id: int, motion_id: int) -> tuple[Motion, VoterFacts] | None:
    """The motion (if it is in this session) and the person's facts; None if there is no such motion."""
    sql, params = _FACTS.sql(user_id=user.pk if user.is_authenticated else None, motion_id=motion_id, session_id=session_id)
    rows = list(Motion.objects.raw(sql, params))
    if not rows:
        return None
    return rows[0], _facts_of(rows[0])


def facts_read(*, user: AnyUser, motion: Motion) -> VoterFacts:
    """The person's facts for a motion already in hand.

    If the motion was deleted since the caller loaded it (a moderator discarded the draft in
    between), this is "no such motion" for the caller too: ``Http404``, as loading it would
    have been, not a server error.
    """
    found = motion_with_facts(user=user, session_id=motion.session_id, motion_id=motion.pk)
    if found is None:
        raise Http404(_("That motion no longer exists."))
    return found[1]
