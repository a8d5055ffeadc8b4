"""Recording and reading security-relevant events (logins, roles, votes, minutes, moderation, and
the roster changes of agora/roster/changes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agora.roster.models import AuditEvent, Community, Membership, Resident, Tag, Tenure
from agora.roster.names import display_name, join_names
from agora.roster.roles import AnyUser, moderated_communities

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
    "account.password_set": _("Password set by a moderator"),
    "account.password_chosen": _("Password chosen by its owner"),
    "invitation.issued": _("Invitation sheet printed"),
    "invitation.revoked": _("Invitation code revoked"),
    "invitation.used": _("Logged in with an invitation code"),
    "roster.imported": _("Roster imported"),
    "staff.added": _("Grid worker or observer added"),
    "staff.removed": _("Grid worker or observer removed"),
    "staff.grids": _("Grid worker's grids changed"),
    "session.transition": _("Session state changed"),
    "motion.opened": _("Voting opened"),
    "motion.closed": _("Voting closed"),
    "motion.in_person": _("In-person ballots entered"),
    "minutes.published": _("Minutes published"),
    "minutes.corrected": _("Minutes corrected"),
    "roster.tenure": _("Tenure changed"),
    "roster.verified": _("Verification changed"),
    "roster.household": _("Household membership changed"),
    "roster.tags": _("Tags changed"),
    "roster.area": _("Floor area changed"),
    "roster.owner": _("Owner reference changed"),
    "roster.household_added": _("Household added"),
    "roster.household_removed": _("Household removed"),
    "decision.door_vote": _("Ballot recorded door to door (assisted)"),
    "decision.proxy_recorded": _("Proxy recorded"),
    "decision.proxy_revoked": _("Proxy revoked"),
    "decision.proxy_vote": _("Ballot cast by proxy"),
    "decision.paper_prepared": _("Paper ballot codes prepared"),
    "decision.paper_issued": _("Paper ballots handed out"),
    "decision.paper_entered": _("Paper ballot entered"),
    "decision.paper_conflict": _("Paper ballot returned for a unit that had voted (conflict)"),
    "decision.paper_reviewed": _("Paper ballot reviewed"),
    "decision.paper_voided": _("Paper ballot voided"),
}
# The roster facts that decide who may vote and with what weight (agora/roster/changes.py).
ROSTER_KINDS = tuple(kind for kind in KIND_LABELS if kind.startswith("roster."))


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


def roster_changes_during(*, community: Community | int, start: datetime, end: datetime | None = None) -> QuerySet[AuditEvent]:
    """The roster changes recorded for ``community`` from ``start`` to ``end`` (or until now),
    oldest first: what a motion's result shows for the time its vote was open."""
    community_id = community if isinstance(community, int) else community.pk
    events = AuditEvent.objects.filter(community_id=community_id, kind__in=ROSTER_KINDS, at__gte=start)
    if end is not None:
        events = events.filter(at__lte=end)
    return events.select_related("actor").order_by("at", "pk")


ROSTER_CHANGES_SHOWN = 50


def _roster_value(kind: str, value: Any, tags: dict[str, Tag], language: str | None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if kind == "roster.tenure" and value in Tenure.values:
        return str(Tenure(value).label)
    if kind == "roster.verified":
        return str(_("yes") if value else _("no"))
    if kind == "roster.tags":
        return join_names(tags[slug].label(language) if slug in tags else slug for slug in value)
    if kind == "roster.area":
        return f"{value} m²"
    return str(value)


def roster_change_rows(events: QuerySet[AuditEvent], *, language: str | None) -> list[dict[str, Any]]:
    """Roster changes as a result page shows them: when, what, which household, before, after,
    and by whom. The household, not the resident's name: the result is read by every member."""
    shown = list(events[:ROSTER_CHANGES_SHOWN])
    if not shown:
        return []  # the usual case, on a page polled every 2 s: one query
    tags = {t.slug: t for t in Tag.objects.all()}
    rows = []
    for event in shown:
        d = event.detail
        if event.kind in ("roster.household_added", "roster.household_removed"):
            before, after = ("—", d.get("household", "")) if event.kind.endswith("added") else (d.get("household", ""), "—")
            where = d.get("household", "")
        else:
            before = _roster_value(event.kind, d.get("before"), tags, language)
            after = _roster_value(event.kind, d.get("after"), tags, language)
            where = d.get("household") or (d.get("after") or d.get("before") if event.kind == "roster.household" else "")
        actor = event.actor
        rows.append(
            {
                "at": event.at,
                "label": KIND_LABELS.get(event.kind, event.kind),
                "household": where,
                "before": before,
                "after": after,
                "by": display_name(actor) if actor else "—",
            }
        )
    return rows
