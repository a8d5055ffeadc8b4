"""Named predicates about a user's standing in a community (one place, each tested)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from agora.roster.models import Community, Membership, Resident, Role

AnyUser = AbstractBaseUser | AnonymousUser


def community_role(*, user: AnyUser, community: Community | int) -> str | None:
    """The user's role in the community, or None. District admins (superusers) moderate all."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.MODERATOR
    community_id = community if isinstance(community, int) else community.pk
    # Cached per user object: a request or a connection asks this many times.
    cache: dict[int, str | None] = user.__dict__.setdefault("_agora_roles", {})
    if community_id not in cache:
        role = (
            Membership.objects.filter(user=user, community_id=community_id)
            .values_list("role", flat=True)
            .first()
        )
        if role is None and Resident.objects.filter(user=user, community_id=community_id).exists():
            role = Role.RESIDENT
        cache[community_id] = role
    return cache[community_id]


def is_moderator(*, user: AnyUser, community: Community | int) -> bool:
    return community_role(user=user, community=community) == Role.MODERATOR


def is_observer(*, user: AnyUser, community: Community | int) -> bool:
    return community_role(user=user, community=community) == Role.OBSERVER


def is_member(*, user: AnyUser, community: Community | int) -> bool:
    return community_role(user=user, community=community) is not None


def moderated_communities(*, user: AnyUser) -> list[Community]:
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Community.objects.all())
    return list(Community.objects.filter(memberships__user=user, memberships__role=Role.MODERATOR))
