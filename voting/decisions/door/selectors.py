"""Door to door (扫楼) and proxies: the reads.

- ``door_buildings``: the buildings a grid worker (their grids') or a moderator (all) visits,
  with every unit and whether it has voted, filtered by room.
- ``canvass_buildings``: the 扫楼 list, per building the units that have not voted, with owner
  names, phones and area; ``canvass_csv_rows`` the same as spreadsheet rows.
- ``proxies_of`` (the moderator's list), ``held_proxies`` (what a holder may vote for).
  The published result's "由 X 代为表决" is ``voting.decisions.records.proxy_votes``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from agora.roster.models import Building, Role
from agora.roster.names import display_name
from voting.decisions.rules import DecisionFacts, canvasses, manages
from voting.models import Decision, DecisionVote, Proxy, VoteState
from voting.units import DecisionUnit, decision_units


@dataclass
class UnitRow:
    unit: DecisionUnit
    vote: DecisionVote | None  # its vote that is not voided, if any
    proxy_holder: str = ""  # the live proxy's holder, if any

    @property
    def voted(self) -> bool:
        return self.vote is not None


@dataclass
class BuildingRows:
    building_id: int
    name: str
    units: list[UnitRow] = field(default_factory=list)

    @property
    def voted(self) -> int:
        return sum(1 for u in self.units if u.voted)

    @property
    def waiting(self) -> list[UnitRow]:
        return [u for u in self.units if not u.voted]


def votes_by_unit(decision: Decision, unit_keys: Collection[str] | None = None) -> dict[str, DecisionVote]:
    """Each unit's vote that is not voided (at most one: ``decision_vote_one_per_unit``); of
    ``unit_keys`` only, if given."""
    votes = DecisionVote.objects.filter(decision=decision).exclude(state=VoteState.VOIDED)
    if unit_keys is not None:
        votes = votes.filter(unit_key__in=list(unit_keys))
    return {v.unit_key: v for v in votes}


def _live_holders(decision: Decision, unit_keys: Collection[str] | None = None) -> dict[str, str]:
    proxies = Proxy.objects.filter(decision=decision, revoked_at__isnull=True).select_related("holder")
    if unit_keys is not None:
        proxies = proxies.filter(principal_unit_key__in=list(unit_keys))
    return {p.principal_unit_key: display_name(p.holder) for p in proxies}


def canvassed_units(decision: Decision, f: DecisionFacts, *, building_id: int | None = None, owners: bool = True) -> list[DecisionUnit]:
    """The units the person canvasses (in ``building_id`` only, if given): a moderator every
    unit, a grid worker those of their grids' buildings (read alone), anyone else none."""
    if building_id is not None:
        if not canvasses(f, building_ids={building_id}):
            return []
        return decision_units(decision, building_ids={building_id}, owners=owners)
    if manages(f):
        return decision_units(decision, owners=owners)
    if f.role != Role.GRID_WORKER or not f.grid_building_ids:
        return []
    return decision_units(decision, building_ids=f.grid_building_ids, owners=owners)


@dataclass(frozen=True)
class BuildingSummary:
    building_id: int
    name: str
    voted: int
    total: int

    @property
    def waiting(self) -> int:
        return self.total - self.voted


def building_summaries(decision: Decision, f: DecisionFacts) -> list[BuildingSummary]:
    """Per building the person canvasses, how many of its units voted (the start page of a
    large roster: one building's units are shown at a time)."""
    units = canvassed_units(decision, f, owners=False)
    votes = DecisionVote.objects.filter(decision=decision).exclude(state=VoteState.VOIDED)
    if not manages(f):
        votes = votes.filter(unit_key__in=[u.unit_key for u in units])
    voted = set(votes.values_list("unit_key", flat=True))
    names = dict(Building.objects.filter(community_id=decision.community_id).values_list("pk", "name"))
    counts: dict[int, list[int]] = {}
    for unit in units:
        for building_id in unit.building_ids:
            if canvasses(f, building_ids={building_id}):
                count = counts.setdefault(building_id, [0, 0])
                count[0] += unit.unit_key in voted
                count[1] += 1
    return sorted((BuildingSummary(b, names.get(b, ""), v, t) for b, (v, t) in counts.items()), key=lambda s: s.name)


def door_buildings(decision: Decision, f: DecisionFacts, *, room: str = "", building_id: int | None = None) -> list[BuildingRows]:
    """Per building the person canvasses (all of the decision's for a moderator; ``building_id``:
    that one), its units in roster order with their votes; ``room``: only units whose room label
    contains it."""
    units = canvassed_units(decision, f, building_id=building_id)
    room = room.strip()
    if room:
        units = [u for u in units if any(room in label for label in u.labels)]
    keys = [u.unit_key for u in units] if not manages(f) or room or building_id is not None else None
    votes = votes_by_unit(decision, keys)
    holders = _live_holders(decision, keys)
    names = dict(Building.objects.filter(community_id=decision.community_id).values_list("pk", "name"))
    rows: dict[int, BuildingRows] = {}
    for unit in units:
        for building in sorted(unit.building_ids, key=lambda b: names.get(b, "")):
            if not canvasses(f, building_ids={building}) or (building_id is not None and building != building_id):
                continue
            bucket = rows.setdefault(building, BuildingRows(building, names.get(building, "")))
            bucket.units.append(UnitRow(unit, votes.get(unit.unit_key), holders.get(unit.unit_key, "")))
    return sorted(rows.values(), key=lambda b: b.name)


def canvass_buildings(decision: Decision, f: DecisionFacts, *, building_id: int | None = None) -> list[BuildingRows]:
    """The 扫楼 list: per building, the units that have not voted yet (grid workers: their
    buildings only; moderators: all; ``building_id``: that one)."""
    buildings = door_buildings(decision, f, building_id=building_id)
    for b in buildings:
        b.units = b.waiting
    return buildings


def canvass_csv_rows(buildings: list[BuildingRows]) -> Iterator[list[object]]:
    """The 扫楼 list as spreadsheet rows (the writer neutralises formula prefixes)."""
    yield [_("Building"), _("Unit"), _("Owner"), _("Phone"), _("Area (m²)"), _("Proxy holder")]
    for b in buildings:
        for row in b.units:
            u = row.unit
            area: object = u.area if u.has_area else _("no area on record")
            yield [b.name, u.label, u.owner_name, " ".join(u.phones), area, row.proxy_holder]


@dataclass
class ProxyRow:
    proxy: Proxy
    unit_label: str
    owner_name: str
    holder_name: str
    vote: DecisionVote | None  # the vote this proxy made

    @property
    def revocable(self) -> bool:
        return self.proxy.revoked_at is None and self.vote is None


def proxies_of(decision: Decision, f: DecisionFacts) -> list[ProxyRow]:
    """Every proxy of the decision, live and revoked (moderators only; none for anyone else)."""
    if not manages(f):
        return []
    units = {u.unit_key: u for u in decision_units(decision)}
    used = {v.proxy_id: v for v in DecisionVote.objects.filter(decision=decision, proxy__isnull=False).exclude(state=VoteState.VOIDED)}
    rows = []
    for p in Proxy.objects.filter(decision=decision).select_related("holder").order_by("-recorded_at", "-pk"):
        unit = units.get(p.principal_unit_key)
        rows.append(
            ProxyRow(
                p, unit.label if unit else p.principal_unit_key, unit.owner_name if unit else "", display_name(p.holder), used.get(p.pk)
            )
        )
    return rows


def proxy_of_holder(decision: Decision, user: User, proxy_id: int) -> Proxy | None:
    return Proxy.objects.filter(decision=decision, holder=user, pk=proxy_id).first()
