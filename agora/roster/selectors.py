"""Reads for the roster pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from agora.roster.invitations import invitation_state
from agora.roster.models import Building, Community, Invitation, Membership, Resident, Role


@dataclass(frozen=True)
class AccountRow:
    user: Any
    resident: Resident | None
    membership: Membership | None
    sheet: str  # none / open / used / expired / revoked
    sheet_until: Any
    has_password: bool


def _invitations(community: Community) -> Prefetch[Any]:
    return Prefetch("user__invitations", queryset=Invitation.objects.filter(community=community), to_attr="_sheets")


def _row(user: Any, *, resident: Resident | None = None, membership: Membership | None = None) -> AccountRow:
    sheets = list(getattr(user, "_sheets", []))
    return AccountRow(
        user=user,
        resident=resident,
        membership=membership,
        sheet=invitation_state(sheets),
        sheet_until=sheets[0].expires_at if sheets else None,
        has_password=user.has_usable_password(),
    )


def community_buildings(community: Community) -> list[Building]:
    return list(Building.objects.filter(community=community).order_by("name"))


def resident_rows(*, community: Community, building_id: int | None) -> list[AccountRow]:
    residents = (
        Resident.objects.filter(community=community).select_related("user", "household__building").prefetch_related(_invitations(community))
    )
    if building_id is not None:
        residents = residents.filter(household__building_id=building_id)
    residents = residents.order_by("household__building__name", "household__unit", "household__room", "user__first_name")
    return [_row(r.user, resident=r) for r in residents]


def staff_rows(*, community: Community) -> list[AccountRow]:
    memberships = (
        Membership.objects.filter(community=community, role__in=[Role.GRID_WORKER, Role.OBSERVER])
        .select_related("user")
        .prefetch_related("grids", _invitations(community))
        .order_by("role", "user__first_name", "user__username")
    )
    return [_row(m.user, membership=m) for m in memberships]
