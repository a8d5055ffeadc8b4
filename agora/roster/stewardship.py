"""Who may manage a community's roster and accounts, and whose accounts a moderator looks after.

A moderator manages their own community's roster, staff and residents' logins. They look after an
account only if it belongs to their community and to no other, and is neither a district admin,
Django staff nor a moderator (a moderator cannot take over a colleague's account).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed
from agora.roster.models import Community, Membership, Resident, Role
from agora.roster.roles import AnyUser, is_moderator


def can_manage_roster(*, user: AnyUser, community: Community) -> bool:
    return is_moderator(user=user, community=community)


def roster_manage_check(*, user: AnyUser, community: Community) -> None:
    if not can_manage_roster(user=user, community=community):
        raise NotAllowed(_("Only this community's moderators can manage its roster and accounts."))


def ties_of(user: Any) -> tuple[set[int], set[str]]:
    """The communities an account belongs to, and its roles there."""
    memberships = list(Membership.objects.filter(user=user).values_list("community_id", "role"))
    residencies = set(Resident.objects.filter(user=user).values_list("community_id", flat=True))
    return {c for c, _r in memberships} | residencies, {r for _c, r in memberships}


def in_care_of(*, user: Any, community: Community) -> bool:
    """True if ``community``'s moderators look after this account's login."""
    if user.is_superuser or user.is_staff:
        return False
    communities, roles = ties_of(user)
    return communities == {community.pk} and Role.MODERATOR not in roles


def care_check(*, user: Any, community: Community) -> None:
    if not in_care_of(user=user, community=community):
        raise NotAllowed(_("This account is not only in your community, so its login is managed by the district office."))
