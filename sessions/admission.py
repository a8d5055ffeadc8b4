"""Who may open a session's live connection, decided from one query.

The rules are those of ``sessions.rules`` (``can_join_live``, ``can_moderate``, ``in_audience``,
``is_invited_observer``, ``is_removed``) and of ``agora.roster.roles.community_role``; evaluated one
predicate at a time they cost ~13 queries per connect, and a 2,000-person connect storm pays
that 2,000 times (docs/performance.md, "Live sessions"). Here the same facts — the session's
state and community, the person's membership, residence, building, audience tags, invitation
and removal — are read in one query and the same rules are applied to them.
``tests/sessions/test_admission.py`` checks that both ways agree for every role, state,
audience, invitation and removal.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from agora.infra.precompiled import Precompiled
from agora.roster.models import Membership, Resident, Role
from agora.roster.roles import AnyUser
from sessions.models import Participant, TopicSession
from sessions.rules import VISIBLE_STATES


@dataclass(frozen=True)
class Standing:
    """What the admission rules know about one person and one session."""

    session_id: int
    community_id: int
    state: str
    membership_role: str | None  # the Membership row's role, if any
    is_resident: bool  # a Resident of the session's community
    building: str  # the resident's building ("" if none)
    audience_open: bool  # the session has no audience tags: every resident is in the audience
    tag_match: bool  # the resident has one of the session's audience tags
    invited: bool  # an invited observer of the session
    removed: bool  # removed from the session by a moderator


@dataclass(frozen=True)
class Admission:
    """The outcome for an admitted person: their role in the room and their building."""

    session_id: int
    community_id: int
    state: str
    role: str  # "moderator", "observer" or "resident"
    can_moderate: bool
    building: str


def _standing_query(*, user_id: int, session_id: int) -> QuerySet[TopicSession]:
    community = OuterRef("community_id")
    resident = Resident.objects.filter(user_id=user_id, community_id=community)
    audience = TopicSession.audience_tags.through.objects.filter(topicsession_id=OuterRef("pk"))
    return (
        TopicSession.objects.filter(pk=session_id)
        .annotate(
            membership_role=Subquery(Membership.objects.filter(user_id=user_id, community_id=community).values("role")[:1]),
            is_resident=Exists(resident),
            building=Subquery(resident.values("household__building__name")[:1]),
            has_audience=Exists(audience),
            tag_match=Exists(audience.filter(tag__residents__user_id=user_id, tag__residents__community_id=community)),
            invited=Exists(TopicSession.observers.through.objects.filter(topicsession_id=OuterRef("pk"), user_id=user_id)),
            removed=Exists(Participant.objects.filter(session_id=OuterRef("pk"), user_id=user_id, removed=True)),
        )
        .values_list(
            "pk", "community_id", "state", "membership_role", "is_resident", "building", "has_audience", "tag_match", "invited", "removed"
        )
    )


_STANDING = Precompiled(_standing_query, "user_id", "session_id")


def standing_read(*, user: AnyUser, session_id: int) -> Standing | None:
    """The session's and the person's facts in one query (None: no such session).

    Call only for an authenticated user; anonymous people are refused without a query.
    """
    row = _STANDING.fetchone(user_id=user.pk, session_id=session_id)
    if row is None:
        return None
    pk, community_id, state, membership_role, is_resident, building, has_audience, tag_match, invited, removed = row
    return Standing(
        session_id=pk,
        community_id=community_id,
        state=state,
        membership_role=membership_role,
        is_resident=bool(is_resident),
        building=building or "",
        audience_open=not has_audience,
        tag_match=bool(tag_match),
        invited=bool(invited),
        removed=bool(removed),
    )


def standing_role(*, user: AnyUser, standing: Standing) -> str | None:
    """``agora.roster.roles.community_role`` over the standing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.MODERATOR
    if standing.membership_role is not None:
        return standing.membership_role
    return Role.RESIDENT if standing.is_resident else None


def standing_in_audience(standing: Standing) -> bool:
    """``sessions.rules.in_audience`` over the standing (for an authenticated user)."""
    return standing.is_resident and (standing.audience_open or standing.tag_match)


def standing_can_view(*, user: AnyUser, standing: Standing) -> bool:
    """``sessions.rules.can_view`` over the standing."""
    if standing_role(user=user, standing=standing) == Role.MODERATOR:
        return True
    return standing.state in VISIBLE_STATES and (standing_in_audience(standing) or standing.invited)


def live_admission(*, user: AnyUser, session_id: int) -> Admission | None:
    """The person's admission to the live session, or None if ``rules.can_join_live`` refuses."""
    if not user.is_authenticated:
        return None  # can_view needs the audience or an invitation, both need an account
    standing = standing_read(user=user, session_id=session_id)
    if standing is None:
        return None
    return standing_admission(user=user, standing=standing)


def standing_admission(*, user: AnyUser, standing: Standing) -> Admission | None:
    """``live_admission`` over facts already read (one person's, or a batch's: ``live_recheck``)."""
    community_role = standing_role(user=user, standing=standing)
    can_moderate = community_role == Role.MODERATOR
    in_audience = standing_in_audience(standing)
    if not can_moderate and (not standing_can_view(user=user, standing=standing) or standing.removed):
        return None
    role = "moderator" if can_moderate else (community_role or "observer")
    if not can_moderate and standing.invited and not in_audience:
        role = "observer"
    return Admission(standing.session_id, standing.community_id, standing.state, role, can_moderate, standing.building)


@dataclass(frozen=True)
class _Facts:
    """What ``standing_role`` reads of a user, from a batch row."""

    is_active: bool
    is_superuser: bool
    is_authenticated: bool = True


@dataclass(frozen=True)
class Recheck:
    """One person's standing now, for the connections a process holds (``live_recheck``)."""

    admission: Admission | None
    removed: bool
    password: str  # the password hash stored now: changed since the connect = signed in again?


RECHECK_BATCH = 500  # ids per statement (SQLite's bound-parameter limit, and a bounded IN list)


def live_recheck(*, session_id: int, user_ids: set[int]) -> dict[int, Recheck]:
    """The live admission of many people to one session: the same rules as ``live_admission``
    (``standing_admission``), over facts read as sets (a few plain statements per 500 people,
    whatever their number: ~10 ms for 1,000 people on PostgreSQL, docs/decisions.md).

    A process re-reads it every second or so for the people it holds connections for
    (sessions/live/fanout.py): a removal, an audience change, a lost invitation or a changed
    password closes their connections without waiting for the channel layer. A person missing
    from the answer no longer exists.
    """
    from django.contrib.auth import get_user_model

    session = TopicSession.objects.filter(pk=session_id).values_list("community_id", "state").first()
    if session is None:
        return {}
    community_id, state = session
    tag_ids = list(TopicSession.audience_tags.through.objects.filter(topicsession_id=session_id).values_list("tag_id", flat=True))
    answer: dict[int, Recheck] = {}
    ids = sorted(int(pk) for pk in user_ids)
    User = get_user_model()
    for start in range(0, len(ids), RECHECK_BATCH):
        # The ids are written into the statements as integers: binding 500 parameters in each of
        # five statements cost ~45 ms of CPU per 1,000 people, the rest of the check ~5 ms.
        batch = ",".join(str(pk) for pk in ids[start : start + RECHECK_BATCH])

        def among(model: type, column: str = "user_id", *, batch: str = batch) -> list[str]:
            return [f"{model._meta.db_table}.{column} IN ({batch})"]

        users = User.objects.extra(where=among(User, User._meta.pk.column)).values_list("pk", "is_active", "is_superuser", "password")
        roles = dict(Membership.objects.filter(community_id=community_id).extra(where=among(Membership)).values_list("user_id", "role"))
        residents = set(Resident.objects.filter(community_id=community_id).extra(where=among(Resident)).values_list("user_id", flat=True))
        tagged: set[int] = set()
        if tag_ids and residents:
            tagged = set(
                Resident.tags.through.objects.filter(resident__community_id=community_id, tag_id__in=tag_ids)
                .extra(where=among(Resident))
                .values_list("resident__user_id", flat=True)
            )
        invited = set(TopicSession.observers.through.objects.filter(topicsession_id=session_id).values_list("user_id", flat=True))
        removed = set(Participant.objects.filter(session_id=session_id, removed=True).values_list("user_id", flat=True))
        for pk, is_active, is_superuser, password in users:
            standing = Standing(
                session_id=session_id,
                community_id=community_id,
                state=state,
                membership_role=roles.get(pk),
                is_resident=pk in residents,
                building="",
                audience_open=not tag_ids,
                tag_match=pk in tagged,
                invited=pk in invited,
                removed=pk in removed,
            )
            admission = standing_admission(user=_Facts(bool(is_active), bool(is_superuser)), standing=standing)
            answer[pk] = Recheck(admission=admission, removed=pk in removed, password=password)
    return answer
