"""A community's grid workers (网格员) and observers (列席), added and removed by its moderators.

A new person gets an account with no usable password (the moderator prints them an invitation
sheet or sets a password). An existing account may be given a role only if it belongs to this
community and to no other: an import or a moderator never changes another community's people. A
resident who becomes a grid worker or observer keeps their household (the Resident row).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import Refused
from agora.roster.audit import audit_record
from agora.roster.models import Community, Grid, Membership, Role
from agora.roster.stewardship import ties_of

STAFF_ROLES = (Role.GRID_WORKER, Role.OBSERVER)


def staff_add(
    *,
    community: Community,
    username: str,
    full_name: str,
    role: str,
    title: str,
    grid_ids: list[int],
    by: Any,
    ip_address: str | None = None,
) -> Membership:
    if role not in STAFF_ROLES:
        raise Refused(_("Choose grid worker or observer."))
    grids = list(Grid.objects.filter(community=community, pk__in=grid_ids)) if role == Role.GRID_WORKER else []
    if role == Role.GRID_WORKER and len(grids) != len(set(grid_ids)):
        raise Refused(_("A chosen grid is not one of this community's."))
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, first_name=full_name)
            user.set_unusable_password()
            user.save()
        else:
            communities, _roles = ties_of(user)
            if user.is_superuser or communities != {community.pk}:
                raise Refused(
                    _("The login name %(name)s is taken by an account outside this community. Choose another login name.")
                    % {"name": username}
                )
            if Membership.objects.filter(user=user, community=community).exists():
                raise Refused(_("%(name)s already has a role in this community.") % {"name": username})
        membership = Membership(user=user, community=community, role=role, title=title)
        membership._agora_by = by  # type: ignore[attr-defined]  # the role.granted record's actor
        membership.save()
        membership.grids.set(grids)
        audit_record(
            kind="staff.added",
            community=community,
            actor=by,
            ip_address=ip_address,
            username=username,
            role=role,
            grids=[g.name for g in grids],
        )
    return membership


def staff_remove(*, membership: Membership, by: Any, ip_address: str | None = None) -> None:
    if membership.role not in STAFF_ROLES:
        raise Refused(_("Only grid workers and observers are removed here."))
    with transaction.atomic():
        audit_record(
            kind="staff.removed",
            community=membership.community_id,
            actor=by,
            ip_address=ip_address,
            username=membership.user.get_username(),
            role=membership.role,
        )
        membership.delete()


def staff_grids_set(*, membership: Membership, grid_ids: list[int], by: Any, ip_address: str | None = None) -> None:
    grids = list(Grid.objects.filter(community_id=membership.community_id, pk__in=grid_ids))
    membership.grids.set(grids)
    audit_record(
        kind="staff.grids",
        community=membership.community_id,
        actor=by,
        ip_address=ip_address,
        username=membership.user.get_username(),
        grids=[g.name for g in grids],
    )
