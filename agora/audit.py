"""Recording and reading security-relevant events (logins, roles, votes, minutes, moderation)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agora.models import AuditEvent, Community, Membership, Resident
from agora.roles import AnyUser, moderated_communities

# kind → how the audit page names it. Other apps record their own kinds with audit_record().
KIND_LABELS: dict[str, Any] = {
    "login.failed": _("Failed login"),
    "login.locked": _("Login locked after repeated failures"),
    "login.succeeded": _("Logged in"),
    "logout": _("Logged out"),
    "role.granted": _("Role granted"),
    "role.changed": _("Role changed"),
    "role.revoked": _("Role revoked"),
    "account.deactivated": _("Account deactivated"),
    "session.transition": _("Session state changed"),
    "motion.opened": _("Voting opened"),
    "motion.closed": _("Voting closed"),
    "motion.in_person": _("In-person ballots entered"),
    "minutes.published": _("Minutes published"),
    "minutes.corrected": _("Minutes corrected"),
}


def audit_record(
    *, kind: str, community: Community | int | None, actor: AnyUser | None = None, ip_address: str | None = None, **detail: Any
) -> AuditEvent:
    community_id = community if isinstance(community, int) or community is None else community.pk
    return AuditEvent.objects.create(
        kind=kind,
        community_id=community_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        ip_address=ip_address or None,
        detail=detail,
    )


def communities_of_username(username: str) -> list[int]:
    ids = set(Membership.objects.filter(user__username=username).values_list("community_id", flat=True))
    ids |= set(Resident.objects.filter(user__username=username).values_list("community_id", flat=True))
    return sorted(ids)


def audit_events_for(*, user: AnyUser, community: Community) -> QuerySet[AuditEvent]:
    """A moderator's view of their own community's events (nothing for anyone else)."""
    if community not in moderated_communities(user=user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(community=community).select_related("actor")
