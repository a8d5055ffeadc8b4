"""Moderation of messages and people: pin, hide (with a reason, never deleted), mute, remove,
slow mode. Each action is checked on the server, logged, and announced after commit."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.broadcast import broadcast_on_commit, user_group
from agora.infra.errors import Refused
from agora.infra.sanitize import clean_plain_text
from sessions import rules
from sessions.events import announce, live_event
from sessions.meeting.services import (
    floor_announce,
    lock_session,
    moderation_log_record,
    require_moderator,
)
from sessions.models import (
    FloorRequest,
    FloorRequestState,
    Message,
    Participant,
    TopicSession,
)
from sessions.selectors import message_data, replies_data
from sessions.slow_mode import SLOW_MODE_MAX_SECONDS

MESSAGE_TEMPLATE = "sessions/partials/_message.html"
REASON_MAX = 200


def _message(session: TopicSession, message_id: int) -> Message:
    message = Message.objects.select_for_update().filter(session_id=session.pk, pk=message_id).first()
    if message is None:
        raise Refused(_("That message is not in this session."), code="not_found")
    return message


def _announce_message(session: TopicSession, message: Message, *, replies: bool = False) -> None:
    """Re-announce a changed message: each connection re-renders it for its viewer. Hidden or
    shown again (``replies``), the replies that quote it are re-rendered too: their quote follows."""
    for data in [message_data(message), *(replies_data(message=message) if replies else [])]:
        announce(
            session.pk,
            live_event(
                kind="message.updated",
                payload={"id": data["id"], "seq": data["seq"], "hidden": data["hidden"], "pinned": data["pinned"]},
                template=MESSAGE_TEMPLATE,
                context={"m": data},
            ),
        )


def message_pin(*, session: TopicSession, by: User, message_id: int, pinned: bool = True) -> Message:
    require_moderator(user=by, session=session)
    with transaction.atomic():
        locked = lock_session(session)
        message = _message(locked, message_id)
        if message.pinned == pinned:
            raise Refused(_("That message is already pinned.") if pinned else _("That message is not pinned."), code="unchanged")
        message.pinned = pinned
        message.save(update_fields=["pinned"])
        moderation_log_record(
            session=locked, actor=by, action="message.pin" if pinned else "message.unpin", target_user_id=message.author_id, message=message
        )
        _announce_message(locked, message)
    return message


def message_hide(*, session: TopicSession, by: User, message_id: int, reason: str) -> Message:
    """Hide a message from residents. It is kept, shown to moderators with the reason, counted in the minutes."""
    require_moderator(user=by, session=session)
    reason = clean_plain_text(reason or "").strip()
    if not reason:
        raise Refused(_("Please give a reason for hiding the message."), code="reason_required")
    if len(reason) > REASON_MAX:
        raise Refused(_("The reason is too long (at most %(limit)d characters).") % {"limit": REASON_MAX}, code="too_long")
    with transaction.atomic():
        locked = lock_session(session)
        message = _message(locked, message_id)
        if message.hidden:
            raise Refused(_("That message is already hidden."), code="unchanged")
        message.hidden = True
        message.hidden_reason = reason
        message.hidden_by = by
        message.hidden_at = timezone.now()
        message.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
        moderation_log_record(
            session=locked, actor=by, action="message.hide", target_user_id=message.author_id, message=message, reason=reason
        )
        _announce_message(locked, message, replies=True)
        _tell_author_hidden(locked, message)
    return message


def _tell_author_hidden(session: TopicSession, message: Message) -> None:
    """The author learns at once that their message was hidden, and why (on every device they
    have open); the other residents' copy of it just goes."""
    broadcast_on_commit(
        user_group(message.author_id),
        live_event(
            kind="message.hidden_own",
            payload={"session_id": session.pk, "id": message.pk, "seq": message.seq},
            template="sessions/partials/_message_hidden_own.html",
            context={"m": message_data(message)},
        ),
    )


def message_unhide(*, session: TopicSession, by: User, message_id: int) -> Message:
    """Show a hidden message again (the log keeps both the hiding and its reason)."""
    require_moderator(user=by, session=session)
    with transaction.atomic():
        locked = lock_session(session)
        message = _message(locked, message_id)
        if not message.hidden:
            raise Refused(_("That message is not hidden."), code="unchanged")
        previous_reason = message.hidden_reason
        message.hidden = False
        message.hidden_reason = ""
        message.hidden_by = None
        message.hidden_at = None
        message.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
        moderation_log_record(
            session=locked,
            actor=by,
            action="message.unhide",
            target_user_id=message.author_id,
            message=message,
            hidden_reason=previous_reason,
        )
        _announce_message(locked, message, replies=True)
    return message


def _participant_target(session: TopicSession, user_id: int) -> User:
    target = get_user_model().objects.filter(pk=user_id).first()
    if target is None or not rules.can_view(user=target, session=session):
        raise Refused(_("That person is not in this session."), code="not_found")
    if rules.can_moderate(user=target, session=session):
        raise Refused(_("A moderator cannot be muted or removed."), code="is_moderator")
    return target


def _tell_user(session: TopicSession, participant: Participant) -> None:
    """The person concerned learns at once (on every device they have open)."""
    broadcast_on_commit(
        user_group(participant.user_id),
        live_event(
            kind="participant.status",
            payload={"session_id": session.pk, "muted": participant.muted, "removed": participant.removed},
        ),
    )


def participant_mute(*, session: TopicSession, by: User, user_id: int, muted: bool = True, reason: str = "") -> Participant:
    """Mute (or unmute) a person: a muted person can read but not post, react or raise a hand."""
    require_moderator(user=by, session=session)
    target = _participant_target(session, user_id)
    reason = clean_plain_text(reason or "")[:REASON_MAX]
    with transaction.atomic():
        locked = lock_session(session)
        participant, _created = Participant.objects.select_for_update().get_or_create(session=locked, user=target)
        if participant.muted == muted:
            raise Refused(_("That person is already muted.") if muted else _("That person is not muted."), code="unchanged")
        participant.muted = muted
        participant.save(update_fields=["muted"])
        if muted:
            withdrawn = FloorRequest.objects.filter(session_id=locked.pk, user=target, state=FloorRequestState.WAITING).update(
                state=FloorRequestState.WITHDRAWN, ended_at=timezone.now()
            )
            if withdrawn:
                floor_announce(locked)
        moderation_log_record(
            session=locked, actor=by, action="participant.mute" if muted else "participant.unmute", target_user_id=target.pk, reason=reason
        )
        _tell_user(locked, participant)
    return participant


def participant_remove(*, session: TopicSession, by: User, user_id: int, reason: str = "") -> Participant:
    """Remove a person from the live session: their open connections close and they cannot rejoin."""
    require_moderator(user=by, session=session)
    target = _participant_target(session, user_id)
    reason = clean_plain_text(reason or "")[:REASON_MAX]
    with transaction.atomic():
        locked = lock_session(session)
        participant, _created = Participant.objects.select_for_update().get_or_create(session=locked, user=target)
        if participant.removed:
            raise Refused(_("That person has already been removed."), code="unchanged")
        participant.removed = True
        participant.save(update_fields=["removed"])
        now = timezone.now()
        ended = FloorRequest.objects.filter(
            session_id=locked.pk, user=target, state__in=[FloorRequestState.WAITING, FloorRequestState.SPEAKING]
        )
        if ended.exists():
            ended.filter(state=FloorRequestState.SPEAKING).update(state=FloorRequestState.DONE, ended_at=now)
            ended.update(state=FloorRequestState.WITHDRAWN, ended_at=now)
            floor_announce(locked)
        moderation_log_record(session=locked, actor=by, action="participant.remove", target_user_id=target.pk, reason=reason)
        broadcast_on_commit(user_group(target.pk), {"type": "user.disconnect", "session_id": locked.pk, "reason": "removed"})
    return participant


def participant_restore(*, session: TopicSession, by: User, user_id: int) -> Participant:
    """Let a removed person back in."""
    require_moderator(user=by, session=session)
    target = _participant_target(session, user_id)
    with transaction.atomic():
        locked = lock_session(session)
        participant = Participant.objects.select_for_update().filter(session=locked, user=target, removed=True).first()
        if participant is None:
            raise Refused(_("That person has not been removed."), code="unchanged")
        participant.removed = False
        participant.save(update_fields=["removed"])
        moderation_log_record(session=locked, actor=by, action="participant.restore", target_user_id=target.pk)
    return participant


def slow_mode_set(*, session: TopicSession, by: User, seconds: int) -> TopicSession:
    """One message per ``seconds`` per person (0 turns slow mode off). Moderators are exempt."""
    require_moderator(user=by, session=session)
    if not (0 <= seconds <= SLOW_MODE_MAX_SECONDS):
        raise Refused(_("Slow mode must be between 0 seconds (off) and 60 minutes."), code="invalid")
    with transaction.atomic():
        locked = lock_session(session)
        locked.slow_mode_seconds = seconds
        locked.save(update_fields=["slow_mode_seconds"])
        moderation_log_record(session=locked, actor=by, action="slow_mode.set", seconds=seconds)
        announce(locked.pk, live_event(kind="slow_mode", payload={"seconds": seconds}))
    session.slow_mode_seconds = seconds
    return locked
