"""Rules of a running meeting: pure functions over plain values, and named predicates.

Nothing here imports sessions.services, so message_post can ask about slow mode.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from agora.errors import Refused
from agora.roles import AnyUser
from sessions import rules
from sessions.models import Message, SessionState, TopicSession

# Join codes are read off a wall and typed on phones: no 0/O, 1/I/L, 5/S or 2/Z look-alikes.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
JOIN_CODE_LENGTH = 6
SLOW_MODE_CHOICES = (0, 10, 30, 60, 120, 300)
SPEAKER_LIMIT_MAX_SECONDS = 60 * 60
SLOW_MODE_MAX_SECONDS = 60 * 60


def normalize_join_code(raw: str) -> str:
    """What a person typed → the code as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in (raw or "").upper() if ch not in " -_\t")


def is_valid_join_code(code: str) -> bool:
    return len(code) == JOIN_CODE_LENGTH and all(ch in JOIN_CODE_ALPHABET for ch in code)


def floor_elapsed_seconds(*, started_at: datetime, now: datetime) -> int:
    """Whole seconds a speaker has had the floor (never negative, even if clocks disagree)."""
    return max(0, int((now - started_at).total_seconds()))


def floor_remaining_seconds(*, started_at: datetime, limit_seconds: int | None, now: datetime) -> int | None:
    """Seconds left of the speaker's time limit: negative when over time, None without a limit."""
    if not limit_seconds:
        return None
    return limit_seconds - floor_elapsed_seconds(started_at=started_at, now=now)


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


def can_raise_hand(*, user: AnyUser, session: TopicSession) -> bool:
    """Residents in the audience and invited observers, while live, unless muted or removed."""
    return session.state == SessionState.LIVE and rules.can_post(user=user, session=session)


def can_check_in_self(*, user: AnyUser, session: TopicSession) -> bool:
    if session.state not in (SessionState.SCHEDULED, SessionState.LIVE):
        return False
    if rules.is_removed(user=user, session=session):
        return False
    return rules.in_audience(user=user, session=session) or rules.is_invited_observer(user=user, session=session)
