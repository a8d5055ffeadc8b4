"""Named permission predicates for topic sessions. Each is tested in tests/sessions/test_rules.py."""

from __future__ import annotations

from agora.roster.models import Resident, Role
from agora.roster.roles import AnyUser, community_role
from sessions.models import Participant, SessionState, TopicSession

# States in which a session can be seen by its audience (drafts are the moderators' own).
VISIBLE_STATES = {SessionState.SCHEDULED, SessionState.LIVE, SessionState.ADJOURNED, SessionState.ARCHIVED}
POSTING_STATES = {SessionState.SCHEDULED, SessionState.LIVE}


def can_moderate(*, user: AnyUser, session: TopicSession) -> bool:
    return community_role(user=user, community=session.community_id) == Role.MODERATOR


def in_audience(*, user: AnyUser, session: TopicSession) -> bool:
    """A resident of the community whose tags match the session's audience (none = everyone)."""
    if not user.is_authenticated:
        return False
    resident = Resident.objects.filter(user=user, community_id=session.community_id).first()
    if resident is None:
        return False
    tag_ids = {t.pk for t in session.audience_tags.all()}
    if not tag_ids:
        return True
    return resident.tags.filter(pk__in=tag_ids).exists()


def is_invited_observer(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and session.observers.filter(pk=user.pk).exists()


def is_removed(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and Participant.objects.filter(session=session, user=user, removed=True).exists()


def is_muted(*, user: AnyUser, session: TopicSession) -> bool:
    return user.is_authenticated and Participant.objects.filter(session=session, user=user, muted=True).exists()


def can_view(*, user: AnyUser, session: TopicSession) -> bool:
    if can_moderate(user=user, session=session):
        return True
    if session.state not in VISIBLE_STATES:
        return False
    return in_audience(user=user, session=session) or is_invited_observer(user=user, session=session)


def can_follow(*, user: AnyUser, session: TopicSession) -> bool:
    """May read the session's page with its discussion. A person a moderator removed may not
    while the meeting runs (scheduled or live); once it has ended they read it like everyone."""
    if not can_view(user=user, session=session):
        return False
    if session.state in POSTING_STATES and not can_moderate(user=user, session=session):
        return not is_removed(user=user, session=session)
    return True


def can_join_live(*, user: AnyUser, session: TopicSession) -> bool:
    """May open the live connection: the audience, invited observers and moderators, unless removed."""
    if can_moderate(user=user, session=session):
        return True
    return can_view(user=user, session=session) and not is_removed(user=user, session=session)


def can_post(*, user: AnyUser, session: TopicSession) -> bool:
    """Residents in the audience, invited observers and moderators, while scheduled or live."""
    if session.state not in POSTING_STATES:
        return False
    if can_moderate(user=user, session=session):
        return True
    return can_join_live(user=user, session=session) and not is_muted(user=user, session=session)


def can_attend(*, user: AnyUser, session: TopicSession) -> bool:
    return session.state in POSTING_STATES and in_audience(user=user, session=session)
