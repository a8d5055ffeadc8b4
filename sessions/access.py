"""Fetch a session for a person and check they may have it (Zulip's ``access_*`` style).

A person outside a session is told it does not exist (``Http404``): a session never reveals
itself to someone outside its audience. Someone who sees it but may not act on it gets
``NotAllowed`` (the 403 page, agora/infra/refusals.py). The rules are sessions/rules.py's.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.models import TopicSession


def access_session(user: AnyUser, session_id: int, *, moderate: bool = False) -> TopicSession:
    """The session (with its community) if ``user`` may see it; with ``moderate``, only for its moderators."""
    session = get_object_or_404(TopicSession.objects.select_related("community"), pk=session_id)
    if not rules.can_view(user=user, session=session):
        raise Http404
    if moderate and not rules.can_moderate(user=user, session=session):
        raise NotAllowed(_("Only a moderator of this session can do that."))
    return session
