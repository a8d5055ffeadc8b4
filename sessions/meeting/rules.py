"""Rules of a running meeting: pure functions over plain values, and named predicates.

Slow mode, which message_post asks about, is in sessions/slow_mode.py.
"""

from __future__ import annotations

from datetime import datetime

from agora.roster.roles import AnyUser
from sessions import rules
from sessions.models import SessionState, TopicSession

# Join codes are read off a wall and typed on phones: no 0/O, 1/I/L, 5/S or 2/Z look-alikes.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
JOIN_CODE_LENGTH = 6
SPEAKER_LIMIT_MAX_SECONDS = 60 * 60


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


def can_raise_hand(*, user: AnyUser, session: TopicSession) -> bool:
    """Residents in the audience and invited observers, while live, unless muted or removed."""
    return session.state == SessionState.LIVE and rules.can_post(user=user, session=session)


def can_check_in_self(*, user: AnyUser, session: TopicSession) -> bool:
    if session.state not in (SessionState.SCHEDULED, SessionState.LIVE):
        return False
    if rules.is_removed(user=user, session=session):
        return False
    return rules.in_audience(user=user, session=session) or rules.is_invited_observer(user=user, session=session)
