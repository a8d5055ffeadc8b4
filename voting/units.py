"""The voting units of an owners' decision and its base (投票权数): one implementation.

A decision's base is the roster, not the accounts: every household of the decision's buildings
(all of the community's when none are chosen) counts, whether or not anyone in it has an
account, because paper ballots and grid workers reach the owners who have none. The unit is
the owner (units held by one owner, the same ``owner_key``, count once by headcount and add
their areas: Civil Code Art. 278, PRODUCT.md) or the household (一户一票).

``unit_for_household`` is the rule for one household; ``decision_units`` the same rule over the
roster, read in one query. An Art. 278 matter needs area: ``area_refusal`` is the sentence every
channel gives for a unit without one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Household, Resident, Tenure
from agora.roster.names import display_name
from voting.models import Decision, MotionKind, UnitMode

if TYPE_CHECKING:
    from voting.models import Motion


@dataclass
class DecisionUnit:
    """One voting unit of a decision: its key, its households, its owners as the roster has
    them, and its weight (headcount 1, area the sum of its households' exclusive areas)."""

    unit_key: str
    household_ids: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # "3栋-1单元-502"
    building_ids: set[int] = field(default_factory=set)
    owner_names: list[str] = field(default_factory=list)
    owner_user_ids: list[int] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    area: Decimal = Decimal("0")
    area_missing: bool = False
    # building id -> the area of this unit's households in it (the progress page's per-building bars)
    building_areas: dict[int, Decimal] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "、".join(self.labels)

    @property
    def owner_name(self) -> str:
        return "、".join(self.owner_names)

    @property
    def has_area(self) -> bool:
        return self.area > 0 and not self.area_missing


def household_label(household: Household) -> str:
    return "-".join(p for p in (household.building.name, household.unit, household.room) if p)


def unit_key_for(*, mode: str, household_id: int, owner_key: str) -> str:
    """The rule: an owner unit joins the households of one owner reference; a household is its own."""
    if mode == UnitMode.OWNER:
        return f"o:{owner_key or f'household-{household_id}'}"
    return f"h:{household_id}"


def decision_households(decision: Decision) -> QuerySet[Household]:
    """The households in the decision's scope: its buildings, or the whole community."""
    households = Household.objects.filter(building__community_id=decision.community_id)
    building_ids = [b.pk for b in decision.buildings.all()]
    if building_ids:
        households = households.filter(building_id__in=building_ids)
    return households


def decision_units(
    decision: Decision, *, building_id: int | None = None, building_ids: Iterable[int] = (), owners: bool = True
) -> list[DecisionUnit]:
    """Every voting unit of the decision, in roster order (``building_id`` / ``building_ids``:
    those with a household in those buildings, read alone: with each its households elsewhere, so
    its area is whole). Owners' names and phones come from the roster's verified owners of each
    household (``owners=False``: not read, for counts that need only the weights)."""
    scope = set(building_ids) | ({building_id} if building_id is not None else set())
    in_decision = decision_households(decision)
    if scope:
        in_scope = in_decision.filter(building_id__in=scope)
        if decision.unit_mode == UnitMode.OWNER:
            # An owner's unit joins their households in every building (the same owner_key).
            keys = in_scope.exclude(owner_key="").values("owner_key")
            in_decision = in_decision.filter(Q(building_id__in=scope) | Q(owner_key__in=keys))
        else:
            in_decision = in_scope
    households = list(in_decision.select_related("building").order_by("building__name", "unit", "room", "pk"))
    owners_of: dict[int, list[Resident]] = defaultdict(list)
    if owners:
        residents = Resident.objects.filter(household_id__in=[h.pk for h in households], tenure=Tenure.OWNER).select_related("user")
        for resident in residents.order_by("pk"):
            owners_of[resident.household_id].append(resident)
    units: dict[str, DecisionUnit] = {}
    for household in households:
        key = unit_key_for(mode=decision.unit_mode, household_id=household.pk, owner_key=household.owner_key)
        unit = units.setdefault(key, DecisionUnit(key))
        unit.household_ids.append(household.pk)
        unit.labels.append(household_label(household))
        unit.building_ids.add(household.building_id)
        if household.exclusive_area is None or household.exclusive_area <= 0:
            unit.area_missing = True
        else:
            unit.area += household.exclusive_area
            unit.building_areas[household.building_id] = (
                unit.building_areas.get(household.building_id, Decimal("0")) + household.exclusive_area
            )
        for resident in owners_of[household.pk]:
            name = display_name(resident.user)
            if name not in unit.owner_names:
                unit.owner_names.append(name)
                unit.owner_user_ids.append(resident.user_id)
            if resident.phone and resident.phone not in unit.phones:
                unit.phones.append(resident.phone)
    found = list(units.values())
    if scope:
        found = [u for u in found if u.building_ids & scope]
    return found


def decision_unit(decision: Decision, unit_key: str) -> DecisionUnit | None:
    """One unit by its key (None if it is not a unit of this decision)."""
    if unit_key.startswith("h:"):
        try:
            household_id = int(unit_key.removeprefix("h:"))
        except ValueError:
            return None
        qs = decision_households(decision).filter(pk=household_id)
    elif unit_key.startswith("o:"):
        owner = unit_key.removeprefix("o:")
        if owner.startswith("household-"):
            try:
                qs = decision_households(decision).filter(pk=int(owner.removeprefix("household-")), owner_key="")
            except ValueError:
                return None
        else:
            qs = decision_households(decision).filter(owner_key=owner)
    else:
        return None
    if (decision.unit_mode == UnitMode.OWNER and unit_key.startswith("h:")) or (
        decision.unit_mode == UnitMode.HOUSEHOLD and unit_key.startswith("o:")
    ):
        return None
    building_ids = list(qs.values_list("building_id", flat=True).distinct())
    if not building_ids:
        return None
    for unit in decision_units(decision, building_id=building_ids[0]):
        if unit.unit_key == unit_key:
            return unit
    return None


def unit_of_user(decision: Decision, user_id: int) -> tuple[DecisionUnit | None, str | Promise]:
    """The unit an owner's own ballot stands for, or why they have none (a user sentence)."""
    resident = Resident.objects.filter(user_id=user_id, community_id=decision.community_id).select_related("household").first()
    if resident is None:
        return None, _("Only owners of this community can vote on this decision.")
    if not resident.verified:
        return None, _("Your registration has not been verified yet, so you cannot vote.")
    if resident.tenure != Tenure.OWNER:
        return None, _("Only owners may vote on this decision.")
    household = resident.household
    if not decision_households(decision).filter(pk=household.pk).exists():
        return None, _("Your building is not part of this decision.")
    key = unit_key_for(mode=decision.unit_mode, household_id=household.pk, owner_key=household.owner_key)
    unit = decision_unit(decision, key)
    if unit is None:
        return None, _("Your unit is not on this decision's roster. Please ask the residents' committee.")
    return unit, ""


def needs_area(decision: Decision) -> bool:
    """Whether any matter counts area (Art. 278, or weighted by area)."""
    from voting.models import Motion, WeightMode

    matters: QuerySet[Motion] = Motion.objects.filter(decision=decision)
    return matters.filter(kind=MotionKind.ART278).exists() or matters.filter(weight_mode=WeightMode.AREA).exists()


def area_refusal(unit: DecisionUnit) -> str | Promise:
    """The sentence every channel gives for a unit without area in a decision that counts area."""
    return _(
        "%(unit)s has no floor area on record, so it cannot vote under Art. 278. Please ask the residents' committee to correct the roster."
    ) % {"unit": unit.label}


@dataclass(frozen=True)
class DecisionBase:
    """The base of a decision: its units by headcount and their total area (units without an
    area on record are in the headcount and add no area; an Art. 278 matter counts only units
    with an area, as a live Art. 278 motion does: ``voting.selectors.eligible_base``)."""

    headcount: int
    area: Decimal
    # unit key -> area, for the units with an area on record
    unit_areas: dict[str, Decimal]


def decision_base(decision: Decision, *, units: list[DecisionUnit] | None = None) -> DecisionBase:
    """``units``: the decision's units already read (``decision_units``), not read again."""
    units = decision_units(decision, owners=False) if units is None else units
    areas = {u.unit_key: u.area for u in units if u.has_area}
    return DecisionBase(len(units), sum(areas.values(), Decimal("0")), areas)
