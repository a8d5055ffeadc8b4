"""Named permission predicates for motions and ballots (tested in tests/voting/test_rules.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Household, Role, Tenure
from agora.roster.roles import AnyUser
from sessions import admission
from sessions import rules as session_rules
from sessions.models import TopicSession
from sessions.rules import POSTING_STATES
from voting.facts import VoterFacts, facts_read
from voting.models import (
    BallotUnit,
    Eligibility,
    Motion,
    MotionKind,
    MotionState,
    WeightMode,
)


def can_manage_motions(*, user: AnyUser, session: TopicSession) -> bool:
    """Moderators of the session's community draft, open, close motions and enter counts."""
    return session_rules.can_moderate(user=user, session=session)


def can_manage_motion(*, user: AnyUser, motion: Motion) -> bool:
    return can_manage_motions(user=user, session=motion.session)


def can_see_motion(*, user: AnyUser, motion: Motion, facts: VoterFacts | None = None) -> bool:
    """Moderators see every motion of their sessions; whoever may follow the session sees the
    motions once they are opened (``sessions.rules.can_follow``: a person a moderator removed
    sees none while the meeting runs, like a non-member). ``facts`` (voting/facts.py) saves
    reading them again."""
    if not user.is_authenticated:
        return False  # a session is seen by its audience, invited observers and moderators
    facts = facts or facts_read(user=user, motion=motion)
    if admission.standing_role(user=user, standing=facts.session) == Role.MODERATOR:
        return True
    if facts.session.removed and facts.session.state in POSTING_STATES:
        return False
    return motion.state != MotionState.DRAFT and admission.standing_can_view(user=user, standing=facts.session)


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


@dataclass(frozen=True)
class VotingUnit:
    """What one online ballot of this voter stands for."""

    unit_key: str
    household: Household
    weight: Decimal
    area: Decimal | None


@dataclass(frozen=True)
class Standing:
    unit: VotingUnit | None
    reason: str | Promise = ""

    @property
    def eligible(self) -> bool:
        return self.unit is not None


def voter_standing(*, user: AnyUser, motion: Motion, facts: VoterFacts | None = None) -> Standing:
    """May this user vote on this motion, and as which unit? (The reason is a user sentence.)

    ``facts`` (voting/facts.py: the person's role, residence, audience, removal) are read in
    one query when not given.
    """
    if not user.is_authenticated:
        return Standing(None, _("Please log in to vote."))
    if not user.is_active:  # as the eligible base (voting.selectors.eligible_residents)
        return Standing(None, _("This account has been deactivated, so it cannot vote."))
    facts = facts or facts_read(user=user, motion=motion)
    role = admission.standing_role(user=user, standing=facts.session)
    if role == Role.OBSERVER:
        return Standing(None, _("Observers attend but do not vote."))
    household = facts.household
    if household is None:
        return Standing(None, _("Only residents of this community can vote."))
    if not facts.verified:
        return Standing(None, _("Your registration has not been verified yet, so you cannot vote."))
    if facts.session.removed:
        return Standing(None, _("A moderator has removed you from this session."))
    owners_only = motion.eligibility == Eligibility.OWNERS or motion.kind == MotionKind.ART278
    if owners_only and facts.tenure != Tenure.OWNER:
        return Standing(None, _("Only owners may vote on this motion."))
    if not owners_only and not admission.standing_in_audience(facts.session):
        return Standing(None, _("This vote is for the session's audience only."))
    if motion.kind == MotionKind.ART278:
        key = owner_key_of(household)
        area = owner_area(community_id=facts.session.community_id, owner_key=key)
        if area <= 0:
            return Standing(None, _("Your unit has no floor area on record, so it cannot vote under Art. 278. Please ask the residents' committee."))
        return Standing(VotingUnit(f"o:{key}", household, Decimal("1"), area))
    weight = Decimal("1")
    if motion.weight_mode == WeightMode.AREA:
        weight = household.exclusive_area or Decimal("0")
        if weight <= 0:
            return Standing(None, _("Your household has no floor area on record, so it cannot vote in an area-weighted vote."))
    if motion.ballot_unit == BallotUnit.HOUSEHOLD:
        return Standing(VotingUnit(f"h:{household.pk}", household, weight, None))
    return Standing(VotingUnit(f"u:{user.pk}", household, weight, None))


def can_vote(*, user: AnyUser, motion: Motion) -> bool:
    return voter_standing(user=user, motion=motion).eligible
