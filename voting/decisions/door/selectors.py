"""Door to door (扫楼) and proxies: the reads.

- ``door_buildings``: the buildings a grid worker (their grids') or a moderator (all) visits,
  with every unit and whether it has voted, filtered by room.
- ``canvass_buildings``: the 扫楼 list, per building the units that have not voted, with owner
  names, phones and area; ``canvass_csv_rows`` the same as spreadsheet rows.
- ``proxies_of`` (the moderator's list), ``held_proxies`` (what a holder may vote for),
  ``proxy_votes`` (the published result's "由 X 代为表决").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from agora.roster.models import Building
from agora.roster.names import display_name
from voting.decisions.rules import DecisionFacts, canvasses, manages
from voting.models import Channel, Decision, DecisionVote, Proxy, VoteState
from voting.units import DecisionUnit, decision_unit, decision_units


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


def votes_by_unit(decision: Decision) -> dict[str, DecisionVote]:
    """Each unit's vote that is not voided (at most one: ``decision_vote_one_per_unit``)."""
    return {v.unit_key: v for v in DecisionVote.objects.filter(decision=decision).exclude(state=VoteState.VOIDED)}


def _live_holders(decision: Decision) -> dict[str, str]:
    proxies = Proxy.objects.filter(decision=decision, revoked_at__isnull=True).select_related("holder")
    return {p.principal_unit_key: display_name(p.holder) for p in proxies}


def door_buildings(decision: Decision, f: DecisionFacts, *, room: str = "") -> list[BuildingRows]:
    """Per building the person canvasses (all of the decision's for a moderator), its units in
    roster order with their votes; ``room``: only units whose room label contains it."""
    votes = votes_by_unit(decision)
    holders = _live_holders(decision)
    names = dict(Building.objects.filter(community_id=decision.community_id).values_list("pk", "name"))
    room = room.strip()
    rows: dict[int, BuildingRows] = {}
    for unit in decision_units(decision):
        if room and not any(room in label for label in unit.labels):
            continue
        for building_id in sorted(unit.building_ids, key=lambda b: names.get(b, "")):
            if not canvasses(f, building_ids={building_id}):
                continue
            bucket = rows.setdefault(building_id, BuildingRows(building_id, names.get(building_id, "")))
            bucket.units.append(UnitRow(unit, votes.get(unit.unit_key), holders.get(unit.unit_key, "")))
    return sorted(rows.values(), key=lambda b: b.name)


def canvass_buildings(decision: Decision, f: DecisionFacts) -> list[BuildingRows]:
    """The 扫楼 list: per building, the units that have not voted yet (grid workers: their
    buildings only; moderators: all)."""
    buildings = door_buildings(decision, f)
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


def unit_for_door(decision: Decision, f: DecisionFacts, unit_key: str) -> DecisionUnit | None:
    """The unit, if the person may record its ballot door to door (None otherwise)."""
    unit = decision_unit(decision, unit_key)
    if unit is None or not canvasses(f, building_ids=unit.building_ids):
        return None
    return unit


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


def held_proxies(decision: Decision, user: User) -> list[ProxyRow]:
    """The live proxies the user holds in this decision, with the principal's unit and whether
    it has voted (by this proxy or otherwise)."""
    proxies = list(Proxy.objects.filter(decision=decision, holder=user, revoked_at__isnull=True).select_related("holder"))
    if not proxies:
        return []
    votes = votes_by_unit(decision)
    rows = []
    for p in proxies:
        unit = decision_unit(decision, p.principal_unit_key)
        if unit is None:
            continue
        rows.append(ProxyRow(p, unit.label, unit.owner_name, display_name(p.holder), votes.get(p.principal_unit_key)))
    return rows


def proxy_of_holder(decision: Decision, user: User, proxy_id: int) -> Proxy | None:
    return Proxy.objects.filter(decision=decision, holder=user, pk=proxy_id).first()


@dataclass(frozen=True)
class ProxyVote:
    unit_label: str
    holder_name: str


def proxy_votes(decision: Decision) -> list[ProxyVote]:
    """Where a proxy voted: (unit label, holder name), in roster order — for the published
    result's "由 X 代为表决" (names for members only: ``rules.sees_names``)."""
    votes = (
        DecisionVote.objects.filter(decision=decision, channel=Channel.PROXY)
        .exclude(state=VoteState.VOIDED)
        .select_related("proxy__holder", "voter")
    )
    holder_of = {v.unit_key: display_name(v.proxy.holder if v.proxy else v.voter) for v in votes}
    if not holder_of:
        return []
    return [ProxyVote(u.label, holder_of[u.unit_key]) for u in decision_units(decision) if u.unit_key in holder_of]
