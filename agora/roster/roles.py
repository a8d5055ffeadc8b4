"""Named predicates about a user's standing in a community (one place, each tested)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from agora.roster.models import Community, Membership, Resident, Role

AnyUser = User | AnonymousUser


def role_of(*, active: bool, superuser: bool, membership_role: str | None, resident: bool) -> str | None:
    """The rule of a community role, over its facts (an authenticated user's): an inactive
    account has none; district admins (superusers) moderate every community; otherwise the
    Membership row's role, or resident for a Resident of the community, or none.

    The one implementation: ``community_role`` reads the facts for one community (cached per
    user object), ``sessions.rules.session_facts`` and ``voting.facts`` read them with a session's.
    """
    if not active:
        return None
    if superuser:
        return Role.MODERATOR
    if membership_role is not None:
        return membership_role
    return Role.RESIDENT if resident else None


def community_role(*, user: AnyUser, community: Community | int) -> str | None:
    """The user's role in the community, or None (``role_of``)."""
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return role_of(active=user.is_authenticated and user.is_active, superuser=user.is_superuser, membership_role=None, resident=False)
    community_id = community if isinstance(community, int) else community.pk
    # Cached per user object: a request or a connection asks this many times.
    cache: dict[int, str | None] = user.__dict__.setdefault("_agora_roles", {})
    if community_id not in cache:
        membership = Membership.objects.filter(user=user, community_id=community_id).values_list("role", flat=True).first()
        resident = membership is None and Resident.objects.filter(user=user, community_id=community_id).exists()
        cache[community_id] = role_of(active=True, superuser=False, membership_role=membership, resident=resident)
    return cache[community_id]


def is_moderator(*, user: AnyUser, community: Community | int) -> bool:
    return community_role(user=user, community=community) == Role.MODERATOR


def is_member(*, user: AnyUser, community: Community | int) -> bool:
    return community_role(user=user, community=community) is not None


def member_community_ids(*, user: AnyUser) -> set[int] | None:
    """``is_member`` as a filter: the ids of every community where the user is a member, or
    None for a district admin (every community)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return None
    ids = set(Membership.objects.filter(user=user).values_list("community_id", flat=True))
    ids |= set(Resident.objects.filter(user=user).values_list("community_id", flat=True))
    return ids


def moderated_communities(*, user: AnyUser) -> list[Community]:
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Community.objects.all())
    return list(Community.objects.filter(memberships__user=user, memberships__role=Role.MODERATOR))
