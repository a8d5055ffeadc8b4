"""A small owners' decision world: a community of owners over three buildings, a moderator, a
grid worker for building 1, and a test clock (agora/infra/clock.py) the tests move by days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User

from agora.infra import clock
from agora.roster.models import Building, Community, Grid, Household, Membership, Role, Tenure
from tests.factories import community_make, household_make, resident_make, staff_make, user_make
from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create, decision_open_due
from voting.models import Decision, MotionKind
from voting.services import MotionSettings
from voting.units import DecisionUnit, decision_unit, unit_key_for


@dataclass
class DecisionWorld:
    community: Community
    moderator: User
    clerk: User  # a second moderator: the second paper entry
    grid_worker: User  # grid of 1号楼
    owners: list[User]  # one per household, 1号楼 ×3, 2号楼 ×2, 3号楼 ×1
    households: list[Household]
    tenant: User
    no_area_household: Household  # 3号楼, no area on record, no account
    outsider: User  # owner in another community


def decision_world(*, tenant: bool = True) -> DecisionWorld:
    c = community_make("hexi")
    moderator = staff_make(c, Role.MODERATOR, "mod")
    clerk = staff_make(c, Role.MODERATOR, "clerk")
    grid = Grid.objects.create(community=c, name="第一网格")
    owners, households = [], []
    for building, room, area in [
        ("1号楼", "101", "80.50"),
        ("1号楼", "102", "95.00"),
        ("1号楼", "201", "120.25"),
        ("2号楼", "101", "60.00"),
        ("2号楼", "102", "75.75"),
        ("3号楼", "101", "88.00"),
    ]:
        h = household_make(c, building=building, room=room, area=area)
        households.append(h)
        owners.append(resident_make(c, f"owner{building[0]}{room}", household=h))
    Building.objects.filter(community=c, name="1号楼").update(grid=grid)
    worker = staff_make(c, Role.GRID_WORKER, "grid1")
    Membership.objects.get(user=worker, community=c).grids.set([grid])
    no_area = household_make(c, building="3号楼", room="102", area="0")
    Household.objects.filter(pk=no_area.pk).update(exclusive_area=None)
    no_area.refresh_from_db()
    t = resident_make(c, "tenant1", tenure=Tenure.TENANT, household=households[0]) if tenant else user_make("tenant1")
    other = community_make("other")
    outsider = resident_make(other, "farowner")
    return DecisionWorld(c, moderator, clerk, worker, owners, households, t, no_area, outsider)


def art278_matter(text: str = "在小区东侧空地增设70个停车位", major: bool = True) -> MatterSpec:
    return MatterSpec(text=text, settings=MotionSettings(kind=MotionKind.ART278, major_matter=major))


def draft_decision(w: DecisionWorld, *, days_until_open: int = 16, days_open: int = 10, **kwargs: object) -> Decision:
    now = clock.now()
    matters = kwargs.pop("matters", None) or [art278_matter(), MatterSpec(text="停车位按摇号分配", settings=MotionSettings())]
    return decision_create(
        community=w.community,
        by=w.moderator,
        title="关于增设停车位的业主共同决定",
        opens_at=now + timedelta(days=days_until_open),
        closes_at=now + timedelta(days=days_until_open + days_open),
        matters=matters,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def open_decision(w: DecisionWorld, **kwargs: object) -> Decision:
    """A decision announced with its notice period and moved by the test clock into its period."""
    d = draft_decision(w, **kwargs)
    decision_announce(decision=d, by=w.moderator)
    clock.advance((d.opens_at - clock.now()).total_seconds() + 60)
    assert decision_open_due(decision_id=d.pk)
    d.refresh_from_db()
    return d


def unit_of(d: Decision, household: Household) -> DecisionUnit:
    unit = decision_unit(d, unit_key_for(mode=d.unit_mode, household_id=household.pk, owner_key=household.owner_key))
    assert unit is not None
    return unit


def at(d: Decision, days: float) -> datetime:
    return d.opens_at + timedelta(days=days)


YES_NO = {"yes": 1, "no": 2, "abstain": 3}


def all_yes(d: Decision) -> dict[int, list[int]]:
    """A choice for every matter: yes on each approve/reject or Art. 278 matter."""
    from voting.models import Motion, MotionOption

    out: dict[int, list[int]] = {}
    for m in Motion.objects.filter(decision=d).order_by("position"):
        yes = (
            MotionOption.objects.filter(motion=m, code="yes").first() or MotionOption.objects.filter(motion=m).order_by("position").first()
        )
        assert yes is not None
        out[m.pk] = [yes.pk]
    return out


def choice_of(d: Decision, code: str) -> dict[int, list[int]]:
    from voting.models import Motion, MotionOption

    return {m.pk: [MotionOption.objects.get(motion=m, code=code).pk] for m in Motion.objects.filter(decision=d).order_by("position")}


def area(value: str) -> Decimal:
    return Decimal(value)
