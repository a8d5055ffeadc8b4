"""Fetch minutes, a need or an action item for a person and check they may have it (Zulip's
``access_*`` style).

What a person may not read does not exist for them (``Http404``: members-only minutes do not
reveal they exist); what they read but may not change gets ``NotAllowed`` (the 403 page,
agora/infra/refusals.py). The rules are records/rules.py's.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed
from agora.roster.models import Community
from agora.roster.roles import AnyUser
from records import rules, selectors
from records.models import ActionItem, MinutesRecord, Need


def access_record(user: AnyUser, record_id: int, *, correct: bool = False) -> MinutesRecord:
    """Published minutes ``user`` may read; with ``correct``, only for those who may correct them."""
    record = get_object_or_404(MinutesRecord.objects.select_related("community", "corrects"), pk=record_id)
    if not rules.can_read_minutes(user=user, record=record):
        raise Http404
    if correct and not rules.can_correct_minutes(user=user, record=record):
        raise NotAllowed(_("Only a moderator of this community can correct the minutes."))
    return record


def access_action_item(user: AnyUser, item_id: int) -> ActionItem:
    """An action item, for those who read its session's minutes or may add items to it.

    The item's current minutes (or None) come along as ``item.minutes_record``."""
    item = get_object_or_404(ActionItem.objects.select_related("session__community", "owner"), pk=item_id)
    record = selectors.current_only(MinutesRecord.objects.filter(session_id=item.session_id)).first()
    readable = (record is not None and rules.can_read_minutes(user=user, record=record)) or rules.can_add_action_item(
        user=user, session=item.session
    )
    if not readable:
        raise Http404
    item.minutes_record = record  # type: ignore[attr-defined]
    return item


def access_needs(user: AnyUser, community_slug: str) -> Community:
    """The community whose needs list ``user`` may see."""
    community = get_object_or_404(Community, slug=community_slug)
    if not rules.can_view_needs(user=user, community_id=community.pk):
        raise Http404
    return community


def access_need(user: AnyUser, need_id: int) -> Need:
    """A need on a list ``user`` may see."""
    need = get_object_or_404(Need.objects.select_related("community", "building", "session", "merged_into__session"), pk=need_id)
    if not rules.can_view_needs(user=user, community_id=need.community_id):
        raise Http404
    return need
