"""Fetch a motion (or a session's motions) for a person and check they may have it (Zulip's ``access_*`` style).

A motion the person may not see does not exist for them (``Http404``); one they see but may
not manage gets ``NotAllowed`` (the 403 page, agora/infra/refusals.py). The rules are voting/rules.py's.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed
from agora.roster.roles import AnyUser
from sessions.access import access_session
from sessions.models import TopicSession
from voting import rules
from voting.models import Motion

_ONLY_MODERATORS = _("Only a moderator of this community can do that.")


def access_session_motions(user: AnyUser, session_id: int) -> TopicSession:
    """The session, for someone who may add motions to it."""
    session = access_session(user, session_id)
    if not rules.can_manage_motions(user=user, session=session):
        raise NotAllowed(_ONLY_MODERATORS)
    return session


def access_motion(user: AnyUser, session_id: int, motion_id: int, *, manage: bool = False) -> Motion:
    """The motion of this session if ``user`` may see it; with ``manage``, only for those who run it."""
    session = access_session(user, session_id)
    motion = get_object_or_404(Motion.objects.select_related("session", "session__community"), pk=motion_id, session=session)
    if not rules.can_see_motion(user=user, motion=motion):
        raise Http404
    if manage and not rules.can_manage_motion(user=user, motion=motion):
        raise NotAllowed(_ONLY_MODERATORS)
    return motion
