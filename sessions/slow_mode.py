"""Slow mode: one message per person every N seconds while the moderator has it on. A rule of
message posting (sessions/services.message_post asks it inside the session row lock); the meeting's
console sets N (sessions/meeting/moderation.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from agora.infra.errors import Refused
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.models import Message, TopicSession

SLOW_MODE_CHOICES = (0, 10, 30, 60, 120, 300)
SLOW_MODE_MAX_SECONDS = 60 * 60


def slow_mode_wait_seconds(*, slow_mode_seconds: int, last_message_at: datetime | None, now: datetime) -> int:
    """Seconds a person must still wait before the next message (0: may send now)."""
    if slow_mode_seconds <= 0 or last_message_at is None:
        return 0
    ready_at = last_message_at + timedelta(seconds=slow_mode_seconds)
    if now >= ready_at:
        return 0
    remaining = (ready_at - now).total_seconds()
    return max(1, int(remaining + 0.999))


def slow_mode_check(*, session: TopicSession, author: AnyUser, now: datetime) -> None:
    """Refuse a message sent too soon after the author's last one. Moderators are exempt.

    Call inside the transaction that holds the session row lock (message_post does).
    """
    seconds = session.slow_mode_seconds
    if seconds <= 0 or rules.can_moderate(user=author, session=session):
        return
    last = (
        Message.objects.filter(session_id=session.pk, author_id=author.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    wait = slow_mode_wait_seconds(slow_mode_seconds=seconds, last_message_at=last, now=now)
    if wait:
        raise Refused(
            _("Slow mode is on: one message every %(every)d seconds. You can send again in %(wait)d seconds.")
            % {"every": seconds, "wait": wait},
            code="slow_mode",
        )
