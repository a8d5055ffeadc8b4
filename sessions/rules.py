"""Who may see, follow, join, post in and attend a topic session: one implementation.

Each rule is a pure predicate over ``SessionFacts`` (one person, one session). The facts are
read by ``session_facts`` in one query compiled once per process (agora/infra/precompiled.py):
the same query serves the page's checks, the live connect (sessions/admission.py) and, inside
voting/facts.py's query, a ballot. The named predicates ``can_view(user=, session=)`` and the
like read the facts and apply the rule, for callers that hold a user and a session.

tests/sessions/test_rules.py has a table per predicate; tests/sessions/test_rules_agree.py checks
every loader (one person, the batch re-check, the voting facts) against a table of people and
states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import CharField, Exists, OuterRef, QuerySet, Subquery, Value

from agora.infra.precompiled import Precompiled
from agora.roster.models import Membership, Resident, Role
from agora.roster.roles import AnyUser, community_role, role_of
from sessions.models import Participant, SessionState, TopicSession

# States in which a session can be seen by its audience (drafts are the moderators' own).
VISIBLE_STATES = {SessionState.SCHEDULED, SessionState.LIVE, SessionState.ADJOURNED, SessionState.ARCHIVED}
POSTING_STATES = {SessionState.SCHEDULED, SessionState.LIVE}


@dataclass(frozen=True)
class SessionFacts:
    """What the session rules know about one person and one session."""

    session_id: int
    community_id: int
    state: str
    authenticated: bool
    active: bool  # the account is active (an inactive one has no community role)
    superuser: bool  # a district admin: moderates every community
    membership_role: str | None  # the Membership row's role in the session's community, if any
    is_resident: bool  # a Resident of the session's community
    building: str  # the resident's building ("" if none, or not read)
    audience_open: bool  # the session has no audience tags: every resident is in the audience
    tag_match: bool  # the resident has one of the session's audience tags
    invited: bool  # an invited observer of the session
    removed: bool  # removed from the session by a moderator
    muted: bool  # muted in the session by a moderator


# The rules, over the facts.


def role(f: SessionFacts) -> str | None:
    """The person's role in the session's community (``agora.roster.roles.role_of``)."""
    if not f.authenticated:
        return None
    return role_of(active=f.active, superuser=f.superuser, membership_role=f.membership_role, resident=f.is_resident)


def moderates(f: SessionFacts) -> bool:
    return role(f) == Role.MODERATOR


def audience(f: SessionFacts) -> bool:
    """A resident of the community whose tags match the session's audience (none = everyone).
    An inactive account is in no audience, as it has no community role (``role_of``)."""
    return f.authenticated and f.active and f.is_resident and (f.audience_open or f.tag_match)


def invited(f: SessionFacts) -> bool:
    """An invited observer (an inactive account is none)."""
    return f.authenticated and f.active and f.invited


def removed(f: SessionFacts) -> bool:
    return f.authenticated and f.removed


def muted(f: SessionFacts) -> bool:
    return f.authenticated and f.muted


def views(f: SessionFacts) -> bool:
    """Moderators see every session of their community; the audience and invited observers see
    it once it is scheduled (drafts are the moderators' own)."""
    if moderates(f):
        return True
    return f.state in VISIBLE_STATES and (audience(f) or invited(f))


def follows(f: SessionFacts) -> bool:
    """May read the session's page with its discussion. A person a moderator removed may not
    while the meeting runs (scheduled or live); once it has ended they read it like everyone."""
    if not views(f):
        return False
    if f.state in POSTING_STATES and not moderates(f):
        return not removed(f)
    return True


def joins_live(f: SessionFacts) -> bool:
    """May open the live connection: the audience, invited observers and moderators, unless removed."""
    return moderates(f) or (views(f) and not removed(f))


def posts(f: SessionFacts) -> bool:
    """Residents in the audience, invited observers and moderators, while scheduled or live, unless muted."""
    if f.state not in POSTING_STATES:
        return False
    return moderates(f) or (joins_live(f) and not muted(f))


def attends(f: SessionFacts) -> bool:
    """May say they will attend: the audience, while scheduled or live."""
    return f.state in POSTING_STATES and audience(f)


def room_role(f: SessionFacts) -> str:
    """The role a person admitted to the room has there: "moderator", "resident" or "observer"
    (an invited observer outside the audience is an observer, whatever their community role; a
    grid worker is a resident where they live in the community, an observer otherwise)."""
    if moderates(f):
        return "moderator"
    if f.invited and not audience(f):
        return "observer"
    if role(f) == Role.GRID_WORKER:
        # Community staff (网格员): a resident in the room if they live here, else an observer.
        return "resident" if audience(f) else "observer"
    return role(f) or "observer"


# The one loader.


def facts_annotations(*, user_id: int, session: OuterRef, community: OuterRef, building: bool = True) -> dict[str, Any]:
    """The person's facts as annotations of a query over the session (``session``, ``community``:
    references to its id and its community's id). voting/facts.py adds them to its motion query,
    without the building (only the live room's presence shows it; ``building=False`` saves the join)."""
    resident = Resident.objects.filter(user_id=user_id, community_id=community)
    tags = TopicSession.audience_tags.through.objects.filter(topicsession_id=session)
    participant = Participant.objects.filter(session_id=session, user_id=user_id)
    return {
        "f_membership_role": Subquery(Membership.objects.filter(user_id=user_id, community_id=community).values("role")[:1]),
        "f_is_resident": Exists(resident),
        "f_building": Subquery(resident.values("household__building__name")[:1]) if building else Value("", output_field=CharField()),
        "f_has_audience": Exists(tags),
        "f_tag_match": Exists(tags.filter(tag__residents__user_id=user_id, tag__residents__community_id=community)),
        "f_invited": Exists(TopicSession.observers.through.objects.filter(topicsession_id=session, user_id=user_id)),
        "f_removed": Exists(participant.filter(removed=True)),
        "f_muted": Exists(participant.filter(muted=True)),
    }


FACT_COLUMNS = ("f_membership_role", "f_is_resident", "f_building", "f_has_audience", "f_tag_match", "f_invited", "f_removed", "f_muted")


def facts_from(*, user: AnyUser, session_id: int, community_id: int, state: str, values: Sequence[Any]) -> SessionFacts:
    """``SessionFacts`` from the ``FACT_COLUMNS`` values of a row (an authenticated user's)."""
    membership_role, is_resident, building, has_audience, tag_match, was_invited, was_removed, was_muted = values
    return SessionFacts(
        session_id=session_id,
        community_id=community_id,
        state=state,
        authenticated=True,
        active=bool(user.is_active),
        superuser=bool(user.is_superuser),
        membership_role=membership_role,
        is_resident=bool(is_resident),
        building=building or "",
        audience_open=not has_audience,
        tag_match=bool(tag_match),
        invited=bool(was_invited),
        removed=bool(was_removed),
        muted=bool(was_muted),
    )


def _facts_query(*, user_id: int, session_id: int) -> QuerySet[TopicSession]:
    return (
        TopicSession.objects.filter(pk=session_id)
        .annotate(**facts_annotations(user_id=user_id, session=OuterRef("pk"), community=OuterRef("community_id")))
        .values_list("pk", "community_id", "state", *FACT_COLUMNS)
    )


_FACTS = Precompiled(_facts_query, "user_id", "session_id")


def anonymous_facts(*, session_id: int, community_id: int, state: str) -> SessionFacts:
    """An anonymous person's facts: nothing to read."""
    return SessionFacts(session_id, community_id, state, False, False, False, None, False, "", True, False, False, False, False)


def session_facts(*, user: AnyUser, session_id: int) -> SessionFacts | None:
    """The session's and the person's facts in one query (None: no such session). An anonymous
    person's need the session's row only."""
    if not user.is_authenticated:
        session_row = TopicSession.objects.filter(pk=session_id).values_list("community_id", "state").first()
        return None if session_row is None else anonymous_facts(session_id=session_id, community_id=session_row[0], state=session_row[1])
    row = _FACTS.fetchone(user_id=user.pk, session_id=session_id)
    if row is None:
        return None
    return facts_from(user=user, session_id=row[0], community_id=row[1], state=row[2], values=row[3:])


def _facts(user: AnyUser, session: TopicSession, *, moderator_decides: bool = False) -> SessionFacts:
    """The facts for a session the caller holds: its state as the caller sees it.

    ``moderator_decides``: the rule asked answers a moderator from the role and the state alone
    (``views``, ``follows``, ``joins_live``, ``posts``), so for a moderator (``community_role``,
    cached per user object) the person's other facts are not read.
    """
    if not user.is_authenticated:
        return anonymous_facts(session_id=session.pk, community_id=session.community_id, state=session.state)
    if moderator_decides and can_moderate(user=user, session=session):
        return replace(
            anonymous_facts(session_id=session.pk, community_id=session.community_id, state=session.state),
            authenticated=True,
            active=True,
            superuser=bool(user.is_superuser),
            membership_role=Role.MODERATOR,
        )
    facts = session_facts(user=user, session_id=session.pk)
    if facts is None:  # deleted under the caller: the person has no part in it
        return anonymous_facts(session_id=session.pk, community_id=session.community_id, state=session.state)
    if facts.state != session.state or facts.community_id != session.community_id:
        facts = replace(facts, state=session.state, community_id=session.community_id)
    return facts


# The named predicates, for a user and a session in hand.


def can_moderate(*, user: AnyUser, session: TopicSession) -> bool:
    # The role alone: community_role's cache (per user object) answers repeated asks without a query.
    return community_role(user=user, community=session.community_id) == Role.MODERATOR


def in_audience(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and audience(_facts(user, session))


def is_invited_observer(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and invited(_facts(user, session))


def is_removed(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and removed(_facts(user, session))


def is_muted(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and muted(_facts(user, session))


def can_view(*, user: AnyUser, session: TopicSession) -> bool:
    return views(_facts(user, session, moderator_decides=True))


def can_follow(*, user: AnyUser, session: TopicSession) -> bool:
    return follows(_facts(user, session, moderator_decides=True))


def can_join_live(*, user: AnyUser, session: TopicSession) -> bool:
    return joins_live(_facts(user, session, moderator_decides=True))


def can_post(*, user: AnyUser, session: TopicSession) -> bool:
    return posts(_facts(user, session, moderator_decides=True))


def can_attend(*, user: AnyUser, session: TopicSession) -> bool:
    return attends(_facts(user, session))
