"""Named permission predicates for minutes, follow-up and the needs list (tests/records/test_rules.py).

Who may read a minutes record: ``reads_minutes``; the same as a queryset filter beside it
(``readable_records``, tests/records/test_rules_agree.py).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from agora.roster.models import Resident
from agora.roster.roles import AnyUser, is_member, is_moderator, member_community_ids
from records.models import (
    ActionItem,
    ActionStatus,
    MinutesRecord,
    Need,
    NeedStatus,
    Visibility,
)
from sessions.models import SessionState, TopicSession


def can_draft_minutes(*, user: AnyUser, session: TopicSession) -> bool:
    """Moderators of the community, once the session is adjourned and until it is archived."""
    return session.state == SessionState.ADJOURNED and is_moderator(user=user, community=session.community_id)


def reads_minutes(*, visibility: str, member: bool) -> bool:
    """Who may read a minutes record: anyone if it is public, the community's members if not."""
    return visibility == Visibility.PUBLIC or member


def can_read_minutes(*, user: AnyUser, record: MinutesRecord) -> bool:
    if record.visibility == Visibility.PUBLIC:  # no need to ask who the reader is
        return True
    return reads_minutes(visibility=record.visibility, member=is_member(user=user, community=record.community_id))


def readable_records(*, user: AnyUser) -> QuerySet[MinutesRecord]:
    """``reads_minutes`` as a filter: public records, and members-only ones of the reader's
    communities (``agora.roster.roles.member_community_ids``, the filter of ``is_member``)."""
    qs = MinutesRecord.objects.all()
    communities = member_community_ids(user=user)
    if communities is None:
        return qs
    return qs.filter(Q(visibility=Visibility.PUBLIC) | Q(community_id__in=communities))


def can_see_voter_names(*, user: AnyUser, record: MinutesRecord) -> bool:
    """Who voted what on an open ballot is for the community's members, never for visitors
    (only records sealed before version 2 hold it; exports.minutes_json)."""
    return is_member(user=user, community=record.community_id)


def can_correct_minutes(*, user: AnyUser, record: MinutesRecord) -> bool:
    return is_moderator(user=user, community=record.community_id)


def can_add_action_item(*, user: AnyUser, session: TopicSession) -> bool:
    return session.state in {SessionState.ADJOURNED, SessionState.ARCHIVED} and is_moderator(user=user, community=session.community_id)


def can_update_action_item(*, user: AnyUser, item: ActionItem) -> bool:
    """Only the responsible moderator (or a district admin) moves an item on."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return item.owner_id == user.pk and is_moderator(user=user, community=item.session.community_id)


def is_resident(*, user: AnyUser, community_id: int) -> bool:
    return user.is_authenticated and Resident.objects.filter(user=user, community_id=community_id).exists()


def can_rate(*, user: AnyUser, item: ActionItem) -> bool:
    """Residents of the community rate an item once it is done."""
    return item.status == ActionStatus.DONE and is_resident(user=user, community_id=item.session.community_id)


def can_submit_need(*, user: AnyUser, community_id: int) -> bool:
    return is_resident(user=user, community_id=community_id)


def can_view_needs(*, user: AnyUser, community_id: int) -> bool:
    return is_member(user=user, community=community_id)


def can_support_need(*, user: AnyUser, need: Need) -> bool:
    return (
        need.status == NeedStatus.OPEN
        and need.author_id != getattr(user, "pk", None)
        and is_resident(user=user, community_id=need.community_id)
    )


def can_manage_needs(*, user: AnyUser, community_id: int) -> bool:
    return is_moderator(user=user, community=community_id)
