"""Who may see a motion, who may vote on it and as which voting unit: one implementation.

Each rule is a pure function over ``voting.facts.VoterFacts`` (read in one query compiled once
per process) and the motion's settings; ``eligible_residents`` is the same rule as a queryset
filter, for the eligible base and the room's counts, beside it here. tests/voting/test_rules.py
and tests/voting/test_rules_agree.py (the filter and the predicate agree on everyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Household, Membership, Resident, Role, Tenure
from agora.roster.roles import AnyUser, is_moderator
from sessions import rules as session_rules
from sessions.models import Participant, TopicSession
from voting.facts import VoterFacts, facts_read, owner_area, owner_key_of
from voting.models import (
    BallotUnit,
    Eligibility,
    Motion,
    MotionKind,
    MotionState,
    WeightMode,
)

__all__ = ["owner_area", "owner_key_of"]  # the Art. 278 owner's units, read by voting.facts


def can_manage_motions(*, user: AnyUser, session: TopicSession) -> bool:
    """Moderators of the session's community draft, open, close motions and enter counts."""
    return session_rules.can_moderate(user=user, session=session)


def can_manage_motion(*, user: AnyUser, motion: Motion) -> bool:
    """A live motion: ``can_manage_motions``; a decision's matter: a moderator of its community."""
    if motion.session is None:
        return motion.decision is not None and is_moderator(user=user, community=motion.decision.community_id)
    return can_manage_motions(user=user, session=motion.session)


def sees_motion(*, facts: VoterFacts, motion: Motion) -> bool:
    """Moderators see every motion of their sessions; whoever may follow the session sees the
    motions once they are opened (``sessions.rules.follows``: a person a moderator removed sees
    none while the meeting runs, like a non-member)."""
    f = facts.session
    return session_rules.moderates(f) or (motion.state != MotionState.DRAFT and session_rules.follows(f))


def can_see_motion(*, user: AnyUser, motion: Motion, facts: VoterFacts | None = None) -> bool:
    """``sees_motion`` for a user; ``facts`` (voting/facts.py) saves reading them again."""
    if not user.is_authenticated:
        return False
    return sees_motion(facts=facts or facts_read(user=user, motion=motion), motion=motion)


@dataclass(frozen=True)
class VotingUnit:
    """What one online ballot of this voter stands for."""

    unit_key: str
    household: Household
    weight: Decimal
    area: Decimal | None


@dataclass(frozen=True)
class VoterStanding:
    """May this person vote on this motion: the unit their ballot stands for, or why not."""

    unit: VotingUnit | None
    reason: str | Promise = ""

    @property
    def eligible(self) -> bool:
        return self.unit is not None


def owners_only(motion: Motion) -> bool:
    return motion.eligibility == Eligibility.OWNERS or motion.kind == MotionKind.ART278


def unit_of(*, motion: Motion, household: Household, user_id: int | None, owner_area: Decimal | None) -> VotingUnit | None:
    """The voting unit a ballot from this household (and this person, in a vote by person)
    stands for; None where area counts and the unit has none on record. The same rule for an
    online ballot and a household listed in the room (``voting.services``, ``user_id`` None:
    the room lists households, never persons)."""
    if motion.kind == MotionKind.ART278:
        area = owner_area or Decimal("0")
        return VotingUnit(f"o:{owner_key_of(household)}", household, Decimal("1"), area) if area > 0 else None
    weight = Decimal("1")
    if motion.weight_mode == WeightMode.AREA:
        weight = household.exclusive_area or Decimal("0")
        if weight <= 0:
            return None
    if motion.ballot_unit == BallotUnit.HOUSEHOLD or user_id is None:
        return VotingUnit(f"h:{household.pk}", household, weight, None)
    return VotingUnit(f"u:{user_id}", household, weight, None)


def standing_of(*, facts: VoterFacts, motion: Motion) -> VoterStanding:
    """The voting rule: who may vote on this motion, and as which unit (the reason is a user
    sentence). An inactive account may not (docs/voting.md, "Eligible base"), and is not in the
    base either (``eligible_residents``)."""
    f = facts.session
    if not f.authenticated:
        return VoterStanding(None, _("Please log in to vote."))
    if not f.active:
        return VoterStanding(None, _("This account has been deactivated, so it cannot vote."))
    if session_rules.role(f) == Role.OBSERVER:
        return VoterStanding(None, _("Observers attend but do not vote."))
    household = facts.household
    if household is None:
        return VoterStanding(None, _("Only residents of this community can vote."))
    if not facts.verified:
        return VoterStanding(None, _("Your registration has not been verified yet, so you cannot vote."))
    if f.removed:
        return VoterStanding(None, _("A moderator has removed you from this session."))
    if owners_only(motion) and facts.tenure != Tenure.OWNER:
        return VoterStanding(None, _("Only owners may vote on this motion."))
    if not owners_only(motion) and not session_rules.audience(f):
        return VoterStanding(None, _("This vote is for the session's audience only."))
    unit = unit_of(motion=motion, household=household, user_id=facts.user_id, owner_area=facts.owner_area)
    if unit is None and motion.kind == MotionKind.ART278:
        return VoterStanding(
            None, _("Your unit has no floor area on record, so it cannot vote under Art. 278. Please ask the residents' committee.")
        )
    if unit is None:
        return VoterStanding(None, _("Your household has no floor area on record, so it cannot vote in an area-weighted vote."))
    return VoterStanding(unit)


def eligible_residents(motion: Motion) -> QuerySet[Resident]:
    """``standing_of``'s people as a queryset filter (the eligible base, the room's households):
    verified residents of the community whose account is active, minus observers and people
    removed from the session; owners only, or the session's audience. (The unit's area is
    ``eligible_households``'.)"""
    session: TopicSession = motion.room
    residents = Resident.objects.filter(community_id=session.community_id, verified=True, user__is_active=True)
    observers = Membership.objects.filter(community_id=session.community_id, role=Role.OBSERVER).values("user_id")
    residents = residents.exclude(user_id__in=observers)
    removed = Participant.objects.filter(session=session, removed=True).values("user_id")
    residents = residents.exclude(user_id__in=removed)
    if owners_only(motion):
        residents = residents.filter(tenure=Tenure.OWNER)
    else:
        tag_ids = list(session.audience_tags.values_list("pk", flat=True))
        if tag_ids:
            residents = residents.filter(tags__in=tag_ids).distinct()
    return residents


def eligible_households(motion: Motion) -> set[int]:
    """Households with someone eligible (household votes); weighted by area: with an area
    (``unit_of``)."""
    ids = set(eligible_residents(motion).values_list("household_id", flat=True))
    if motion.weight_mode == WeightMode.AREA:
        ids = set(Household.objects.filter(pk__in=ids, exclusive_area__gt=0).values_list("pk", flat=True))
    return ids


def voter_standing(*, user: AnyUser, motion: Motion, facts: VoterFacts | None = None) -> VoterStanding:
    """``standing_of`` for a user. ``facts`` (voting/facts.py) are read in one query when not
    given; an anonymous or deactivated person is answered without one."""
    if not user.is_authenticated:
        return VoterStanding(None, _("Please log in to vote."))
    if not user.is_active:
        return VoterStanding(None, _("This account has been deactivated, so it cannot vote."))
    return standing_of(facts=facts or facts_read(user=user, motion=motion), motion=motion)


def can_vote(*, user: AnyUser, motion: Motion) -> bool:
    return voter_standing(user=user, motion=motion).eligible
