"""Attendance of a hybrid meeting: online joins and in-room check-ins, each person once."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import Resident
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.events import announce, live_event
from sessions.meeting import selectors
from sessions.meeting.rules import can_check_in_self
from sessions.meeting.services import (
    lock_session,
    meeting_room_ensure,
    moderation_log_record,
    require_moderator,
)
from sessions.models import Attendance, CheckInMethod, SessionState, TopicSession

ATTENDANCE_TEMPLATE = "sessions/meeting/_attendance.html"
GUESTS_MAX = 10_000


def attendance_announce(session: TopicSession) -> None:
    summary = selectors.attendance_summary(session)
    announce(
        session.pk,
        live_event(
            kind="attendance",
            payload={k: summary[k] for k in ("total", "online_only", "in_room", "both", "households")},
            template=ATTENDANCE_TEMPLATE,
            context={"summary": {k: v for k, v in summary.items() if k != "in_person_user_ids"}},
            audience="moderators",
        ),
    )


def attendance_online_mark(*, session_id: int, state: str, user: AnyUser) -> None:
    """Remember that a person joined the live session online (kept after they disconnect).

    One statement (every live connect calls this, 2,000 at once in a storm): insert the row,
    or fill ``online_at`` of a row made at the door; a row already online keeps its first time.
    The same SQL on PostgreSQL and SQLite (≥ 3.24).
    """
    if state != SessionState.LIVE or not user.is_authenticated:
        return
    table = connection.ops.quote_name(Attendance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_id, user_id, online_at, check_in_method) VALUES (%s, %s, %s, '') "
            f"ON CONFLICT (session_id, user_id) DO UPDATE SET online_at = COALESCE({table}.online_at, excluded.online_at)",
            [session_id, user.pk, timezone.now()],
        )


def _check_in(session: TopicSession, user_id: int, *, by: AnyUser | None, method: str) -> bool:
    """Record one check-in; False if the person was already checked in."""
    now = timezone.now()
    attendance, _created = Attendance.objects.select_for_update().get_or_create(session_id=session.pk, user_id=user_id)
    if attendance.checked_in_at is not None:
        return False
    attendance.checked_in_at = now
    attendance.checked_in_by = by if by is not None and by.is_authenticated else None
    attendance.check_in_method = method
    attendance.save(update_fields=["checked_in_at", "checked_in_by", "check_in_method"])
    return True


def checkin_record(*, session: TopicSession, by: User, user_ids: Iterable[int]) -> list[int]:
    """The moderator checks people in at the door (one person, or a whole household).

    Returns the ids newly checked in; people already checked in are left as they are.
    """
    require_moderator(user=by, session=session)
    if session.state not in (SessionState.SCHEDULED, SessionState.LIVE):
        raise Refused(_("Check-in is open while the session is scheduled or live."), code="closed")
    ids = sorted(set(user_ids))
    if not ids:
        raise Refused(_("Choose at least one person to check in."), code="invalid")
    known = set(Resident.objects.filter(community_id=session.community_id, user_id__in=ids).values_list("user_id", flat=True))
    known |= set(session.observers.filter(pk__in=ids).values_list("pk", flat=True))
    if set(ids) - known:
        raise Refused(_("Only residents of this community and invited observers can be checked in."), code="not_found")
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids)}
    for user_id in ids:
        if rules.is_removed(user=users[user_id], session=session):
            raise Refused(_("A person removed from this session cannot be checked in."), code="removed")
    newly: list[int] = []
    with transaction.atomic():
        locked = lock_session(session)
        for user_id in ids:
            if _check_in(locked, user_id, by=by, method=CheckInMethod.DOOR):
                newly.append(user_id)
        if newly:
            moderation_log_record(session=locked, actor=by, action="checkin.record", user_ids=newly)
            attendance_announce(locked)
    return newly


def checkin_undo(*, session: TopicSession, by: User, user_id: int) -> None:
    """Correct a mistaken check-in (logged)."""
    require_moderator(user=by, session=session)
    with transaction.atomic():
        locked = lock_session(session)
        changed = Attendance.objects.filter(session_id=locked.pk, user_id=user_id, checked_in_at__isnull=False).update(
            checked_in_at=None, checked_in_by=None, check_in_method=""
        )
        if not changed:
            raise Refused(_("That person is not checked in."), code="unchanged")
        moderation_log_record(session=locked, actor=by, action="checkin.undo", target_user_id=user_id)
        attendance_announce(locked)


def checkin_self(*, session: TopicSession, user: User, token: str) -> bool:
    """A resident scanned the room's check-in code. Returns False if already checked in."""
    room = meeting_room_ensure(session=session)
    if not secrets.compare_digest(room.checkin_token, token or ""):
        raise NotAllowed(_("This check-in code is not valid for this session."), code="bad_token")
    if not can_check_in_self(user=user, session=session):
        raise NotAllowed(_("You cannot check in to this session."))
    with transaction.atomic():
        locked = lock_session(session)
        newly = _check_in(locked, user.pk, by=None, method=CheckInMethod.SELF)
        if newly:
            attendance_announce(locked)
    return newly


def guests_set(*, session: TopicSession, by: User, count: int) -> int:
    """People in the room who are not on the roster, as counted by the moderator."""
    require_moderator(user=by, session=session)
    if not (0 <= count <= GUESTS_MAX):
        raise Refused(_("The number of guests must be between 0 and 10000."), code="invalid")
    room = meeting_room_ensure(session=session)
    with transaction.atomic():
        locked = lock_session(session)
        room.guests_in_room = count
        room.save(update_fields=["guests_in_room"])
        moderation_log_record(session=locked, actor=by, action="guests.set", count=count)
        attendance_announce(locked)
    return count
