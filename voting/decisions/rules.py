"""Who may do what with an owners' decision: one implementation, pure over :class:`DecisionFacts`.

- moderators of the community manage the decision (draft, announce, extend, enter and void paper
  ballots, record proxies, answer objections, finalize);
- a grid worker (网格员) records ballots door to door and sees the 扫楼 list, for the buildings of
  their grids only;
- members of the community (residents, observers, moderators) read the decision, its progress
  (counts only when the decision shows them while open) and the answers to objections;
- anyone reads a public notice.

``decision_facts`` reads the facts for one user and community in two small queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from agora.roster.models import Building, Membership, Role
from agora.roster.roles import AnyUser, community_role
from voting.models import Decision, DecisionState


@dataclass(frozen=True)
class DecisionFacts:
    authenticated: bool
    role: str | None  # the community role (agora.roster.roles.role_of), None for a non-member
    grid_building_ids: frozenset[int]  # a grid worker's buildings


def decision_facts(*, user: AnyUser, decision: Decision) -> DecisionFacts:
    if not user.is_authenticated:
        return DecisionFacts(False, None, frozenset())
    role = community_role(user=user, community=decision.community_id)
    buildings: frozenset[int] = frozenset()
    if role == Role.GRID_WORKER:
        grids = Membership.objects.filter(user=user, community_id=decision.community_id).values("grids")
        buildings = frozenset(Building.objects.filter(grid__in=grids).values_list("pk", flat=True))
    return DecisionFacts(True, role, buildings)


def manages(f: DecisionFacts) -> bool:
    return f.role == Role.MODERATOR


def reads(f: DecisionFacts, decision: Decision) -> bool:
    """Members read every decision that has left draft; moderators also the drafts."""
    if manages(f):
        return True
    return f.role is not None and decision.state != DecisionState.DRAFT


def canvasses(f: DecisionFacts, *, building_ids: set[int] | frozenset[int]) -> bool:
    """Records door to door and sees the 扫楼 list for a unit in these buildings: a moderator
    anywhere in the community, a grid worker in their grids' buildings."""
    if manages(f):
        return True
    return f.role == Role.GRID_WORKER and bool(set(building_ids) & f.grid_building_ids)


def sees_canvass_list(f: DecisionFacts) -> bool:
    return manages(f) or f.role == Role.GRID_WORKER


def sees_counts(f: DecisionFacts, decision: Decision) -> bool:
    """Counts of an open decision only when it shows them (``results_live``) or to its
    moderators; after the close, every member."""
    if not reads(f, decision):
        return False
    if decision.state in {DecisionState.DRAFT, DecisionState.ANNOUNCED, DecisionState.OPEN}:
        return decision.results_live or manages(f)
    return True


def sees_names(f: DecisionFacts) -> bool:
    """Names in a published result ("由 X 代为表决") are for members only."""
    return f.role is not None
