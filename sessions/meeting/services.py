"""Writes for a running meeting: the room, the agenda and the floor.

Every function checks permission first, writes inside one transaction that holds the
session row lock (so two moderators clicking at once are ordered), records each moderator
action in the session's moderation log, and announces the new state after commit.
Moderation of messages and people is in ``moderation.py``; attendance in ``attendance.py``.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from agora.infra.sanitize import clean_plain_text
from agora.roster.audit import audit_record
from agora.roster.names import display_name
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.events import announce, live_event
from sessions.meeting import selectors
from sessions.meeting.rules import (
    JOIN_CODE_ALPHABET,
    JOIN_CODE_LENGTH,
    SPEAKER_LIMIT_MAX_SECONDS,
    can_raise_hand,
)
from sessions.models import (
    AgendaItem,
    AgendaItemState,
    FloorRequest,
    FloorRequestState,
    MeetingRoom,
    Message,
    ModerationAction,
    SessionState,
    TopicSession,
)

FLOOR_TEMPLATE = "sessions/partials/_floor.html"
AGENDA_TEMPLATE = "sessions/partials/_agenda.html"
OPEN_STATES = (FloorRequestState.WAITING, FloorRequestState.SPEAKING)


# --- shared helpers ---------------------------------------------------------------------


def require_moderator(*, user: AnyUser, session: TopicSession) -> None:
    if not rules.can_moderate(user=user, session=session):
        raise NotAllowed(_("Only a moderator of this session can do that."))


def require_live(session: TopicSession) -> None:
    if session.state != SessionState.LIVE:
        raise Refused(_("This can only be done while the session is live."), code="not_live")


def lock_session(session: TopicSession) -> TopicSession:
    """Call inside ``transaction.atomic()``: orders concurrent meeting changes of one session."""
    return TopicSession.objects.select_for_update().get(pk=session.pk)


def moderation_log_record(
    *,
    session: TopicSession,
    actor: User,
    action: str,
    target_user_id: int | None = None,
    message: Message | None = None,
    reason: str = "",
    **detail: Any,
) -> ModerationAction:
    """One line in the session's moderation log, mirrored to the community's security log."""
    entry = ModerationAction.objects.create(
        session=session,
        actor=actor,
        action=action,
        target_user_id=target_user_id,
        message=message,
        reason=reason,
        detail=detail,
    )
    about: dict[str, Any] = {}
    if target_user_id:
        about["user_id"] = target_user_id
    if message is not None:
        about["message_seq"] = message.seq
    if reason:
        about["reason"] = reason
    audit_record(
        kind=f"meeting.{action}",
        community=session.community_id,
        actor=actor,
        session_id=session.pk,
        **about,
        **detail,
    )
    return entry


def floor_announce(session: TopicSession) -> None:
    data = selectors.floor_data(session=session)
    announce(
        session.pk,
        live_event(
            kind="floor",
            payload={
                "at": data["at"],
                "speaker": speaker_payload(data["speaker"]),
                "queue_user_ids": data["queue_user_ids"],
                "queue_length": len(data["queue"]),
            },
            template=FLOOR_TEMPLATE,
            context={"floor": data},
        ),
    )


def speaker_payload(speaker: dict[str, Any] | None) -> dict[str, Any] | None:
    if speaker is None:
        return None
    return {k: speaker[k] for k in ("id", "user_id", "name", "started_at", "limit_seconds")}


def agenda_announce(session: TopicSession) -> None:
    data = selectors.agenda_data(session=session)
    announce(
        session.pk,
        live_event(
            kind="agenda",
            payload={"at": data["at"], "current_item_id": data["current"]["id"] if data["current"] else None},
            template=AGENDA_TEMPLATE,
            context={"agenda_data": data},
        ),
    )


# --- the room ---------------------------------------------------------------------------


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _i in range(JOIN_CODE_LENGTH))


def meeting_room_ensure(*, session: TopicSession) -> MeetingRoom:
    """The session's room with its join code and secrets, created on first use."""
    room = MeetingRoom.objects.filter(session_id=session.pk).first()
    if room is not None:
        return room
    for _attempt in range(10):
        try:
            with transaction.atomic():
                return MeetingRoom.objects.create(
                    session=session,
                    join_code=_new_join_code(),
                    checkin_token=secrets.token_urlsafe(18),
                    projector_token=secrets.token_urlsafe(24),
                )
        except IntegrityError:
            # Another request created the room, or the random code was taken: look again.
            room = MeetingRoom.objects.filter(session_id=session.pk).first()
            if room is not None:
                return room
    raise Refused(_("No join code could be made. Please try again."), code="no_code")


def projector_link_rotate(*, session: TopicSession, by: User) -> MeetingRoom:
    """Issue a new projector link; screens showing the old one are disconnected."""
    from agora.infra.broadcast import broadcast_on_commit

    require_moderator(user=by, session=session)
    room = meeting_room_ensure(session=session)
    with transaction.atomic():
        lock_session(session)
        room.projector_token = secrets.token_urlsafe(24)
        room.save(update_fields=["projector_token"])
        moderation_log_record(session=session, actor=by, action="projector.rotate")
        broadcast_on_commit(
            projector_group(session.pk), {"type": "user.disconnect", "session_id": session.pk, "reason": "projector_rotated"}
        )
    return room


def projector_group(session_id: int) -> str:
    return f"projector.{session_id}"


# --- the agenda -------------------------------------------------------------------------


def agenda_item_start(*, session: TopicSession, by: User, item_id: int | None = None) -> AgendaItem | None:
    """Move to an agenda item (None: the next one not yet discussed). The current one is done.

    Returns the new current item, or None when every item is done.
    """
    require_moderator(user=by, session=session)
    require_live(session)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_session(session)
        require_live(locked)
        items = AgendaItem.objects.filter(session_id=locked.pk)
        if item_id is not None:
            target = items.filter(pk=item_id).first()
            if target is None:
                raise Refused(_("That agenda item is not in this session."), code="not_found")
        else:
            target = items.filter(state=AgendaItemState.PENDING).order_by("position").first()
            if target is None and locked.current_agenda_item_id is None:
                raise Refused(_("There is no next agenda item."), code="agenda_end")
        previous = items.filter(pk=locked.current_agenda_item_id).first() if locked.current_agenda_item_id else None
        if previous is not None and target is not None and previous.pk == target.pk:
            raise Refused(_("This item is already under discussion."), code="already_current")
        if previous is not None:
            previous.state = AgendaItemState.DONE
            previous.ended_at = now
            previous.save(update_fields=["state", "ended_at"])
        if target is not None:
            target.state = AgendaItemState.CURRENT
            target.started_at = now
            target.ended_at = None
            target.save(update_fields=["state", "started_at", "ended_at"])
        locked.current_agenda_item = target
        locked.save(update_fields=["current_agenda_item"])
        item: dict[str, Any] = {"item": target.title, "position": target.position} if target is not None else {}
        moderation_log_record(session=locked, actor=by, action="agenda.start" if target is not None else "agenda.finish", **item)
        agenda_announce(locked)
    session.current_agenda_item_id = locked.current_agenda_item_id
    return target


def agenda_item_add(*, session: TopicSession, by: User, title: str, planned_minutes: int | None = None) -> AgendaItem:
    require_moderator(user=by, session=session)
    if session.state in (SessionState.ADJOURNED, SessionState.ARCHIVED):
        raise Refused(_("A session that has ended can no longer be edited."), code="ended")
    title = clean_plain_text(title or "")[:200]
    if not title:
        raise Refused(_("An agenda item needs a title."), code="invalid")
    if planned_minutes is not None and not (0 < planned_minutes <= 600):
        raise Refused(_("The planned time must be between 1 and 600 minutes."), code="invalid")
    with transaction.atomic():
        locked = lock_session(session)
        last = AgendaItem.objects.filter(session_id=locked.pk).order_by("-position").values_list("position", flat=True).first()
        item = AgendaItem.objects.create(session=locked, position=(last or 0) + 1, title=title, planned_minutes=planned_minutes)
        moderation_log_record(session=locked, actor=by, action="agenda.add", item=title, position=item.position)
        agenda_announce(locked)
    return item


# --- the floor (发言队列) -------------------------------------------------------------------


def hand_raise(*, session: TopicSession, user: User) -> FloorRequest:
    """A resident or observer asks to speak: they join the end of the queue (once)."""
    if not can_raise_hand(user=user, session=session):
        if rules.is_muted(user=user, session=session):
            raise NotAllowed(_("A moderator has muted you in this session."), code="muted")
        if session.state != SessionState.LIVE:
            raise Refused(_("This can only be done while the session is live."), code="not_live")
        raise NotAllowed(_("You cannot ask to speak in this session."))
    with transaction.atomic():
        locked = lock_session(session)
        require_live(locked)
        existing = FloorRequest.objects.filter(session_id=locked.pk, user=user, state__in=OPEN_STATES).first()
        if existing is not None:
            raise Refused(_("Your hand is already raised."), code="already_raised")
        request = FloorRequest.objects.create(
            session=locked, user=user, name=display_name(user)[:60], agenda_item_id=locked.current_agenda_item_id
        )
        floor_announce(locked)
    return request


def hand_lower(*, session: TopicSession, user: User) -> None:
    """Withdraw one's own raised hand (a speaker who is done asks the moderator instead)."""
    with transaction.atomic():
        locked = lock_session(session)
        changed = FloorRequest.objects.filter(session_id=locked.pk, user=user, state=FloorRequestState.WAITING).update(
            state=FloorRequestState.WITHDRAWN, ended_at=timezone.now()
        )
        if not changed:
            raise Refused(_("Your hand is not raised."), code="not_raised")
        floor_announce(locked)


def floor_add(*, session: TopicSession, by: User, name: str, user_id: int | None = None) -> FloorRequest:
    """The moderator puts someone in the room in the queue, by name (or by roster entry)."""
    from django.contrib.auth import get_user_model

    require_moderator(user=by, session=session)
    require_live(session)
    person = None
    if user_id is not None:
        person = get_user_model().objects.filter(pk=user_id).first()
        if person is None or not rules.can_view(user=person, session=session):
            raise Refused(_("That person is not in this session's audience."), code="not_found")
        name = display_name(person)[:60]
    name = clean_plain_text(name or "")[:60]
    if not name:
        raise Refused(_("Please type the speaker's name."), code="invalid")
    with transaction.atomic():
        locked = lock_session(session)
        require_live(locked)
        if person is not None and FloorRequest.objects.filter(session_id=locked.pk, user=person, state__in=OPEN_STATES).exists():
            raise Refused(_("This person is already in the queue."), code="already_raised")
        request = FloorRequest.objects.create(
            session=locked,
            user=person,
            name=name,
            in_room=True,
            added_by=by,
            agenda_item_id=locked.current_agenda_item_id,
        )
        moderation_log_record(session=locked, actor=by, action="floor.add", target_user_id=user_id, name=name)
        floor_announce(locked)
    return request


def floor_dismiss(*, session: TopicSession, by: User, request_id: int) -> None:
    """The moderator takes someone out of the queue (they did not get the floor)."""
    require_moderator(user=by, session=session)
    with transaction.atomic():
        locked = lock_session(session)
        request = FloorRequest.objects.filter(session_id=locked.pk, pk=request_id, state=FloorRequestState.WAITING).first()
        if request is None:
            raise Refused(_("That request to speak is no longer in the queue."), code="not_found")
        request.state = FloorRequestState.WITHDRAWN
        request.ended_at = timezone.now()
        request.save(update_fields=["state", "ended_at"])
        moderation_log_record(session=locked, actor=by, action="floor.dismiss", target_user_id=request.user_id, name=request.name)
        floor_announce(locked)


def _end_turn(session: TopicSession, now: Any) -> FloorRequest | None:
    speaker = FloorRequest.objects.filter(session_id=session.pk, state=FloorRequestState.SPEAKING).first()
    if speaker is not None:
        speaker.state = FloorRequestState.DONE
        speaker.ended_at = now
        speaker.save(update_fields=["state", "ended_at"])
    return speaker


def _check_limit(limit_seconds: int | None) -> None:
    if limit_seconds is not None and not (0 <= limit_seconds <= SPEAKER_LIMIT_MAX_SECONDS):
        raise Refused(_("The time limit must be between 0 and 60 minutes."), code="invalid")


def floor_give(*, session: TopicSession, by: User, request_id: int | None = None, limit_seconds: int | None = None) -> FloorRequest:
    """Give the floor to a queued person (None: the first in the queue); the current speaker's turn ends.

    ``limit_seconds`` None uses the room's default limit; 0 means no limit.
    """
    require_moderator(user=by, session=session)
    require_live(session)
    _check_limit(limit_seconds)
    room = meeting_room_ensure(session=session)
    with transaction.atomic():
        locked = lock_session(session)
        require_live(locked)
        queue = FloorRequest.objects.filter(session_id=locked.pk, state=FloorRequestState.WAITING).order_by("raised_at", "pk")
        request = queue.filter(pk=request_id).first() if request_id is not None else queue.first()
        if request is None:
            if request_id is None:
                raise Refused(_("Nobody is waiting to speak."), code="queue_empty")
            raise Refused(_("That request to speak is no longer in the queue."), code="not_found")
        now = timezone.now()
        previous = _end_turn(locked, now)
        request.state = FloorRequestState.SPEAKING
        request.started_at = now
        request.limit_seconds = (room.speaker_limit_seconds if limit_seconds is None else limit_seconds) or None
        request.save(update_fields=["state", "started_at", "limit_seconds"])
        handover: dict[str, Any] = {"previous": previous.name} if previous is not None else {}
        moderation_log_record(
            session=locked,
            actor=by,
            action="floor.give",
            target_user_id=request.user_id,
            name=request.name,
            limit_seconds=request.limit_seconds or 0,
            **handover,
        )
        floor_announce(locked)
    return request


def floor_take(*, session: TopicSession, by: User) -> FloorRequest:
    """Take the floor back: the speaker's turn ends."""
    require_moderator(user=by, session=session)
    with transaction.atomic():
        locked = lock_session(session)
        previous = _end_turn(locked, timezone.now())
        if previous is None:
            raise Refused(_("Nobody has the floor."), code="no_speaker")
        moderation_log_record(session=locked, actor=by, action="floor.take", target_user_id=previous.user_id, name=previous.name)
        floor_announce(locked)
    return previous


def speaker_limit_set(*, session: TopicSession, by: User, seconds: int) -> MeetingRoom:
    """The default time limit for the next speakers (0: none). The current speaker keeps theirs."""
    require_moderator(user=by, session=session)
    _check_limit(seconds)
    room = meeting_room_ensure(session=session)
    with transaction.atomic():
        locked = lock_session(session)
        room.speaker_limit_seconds = seconds
        room.save(update_fields=["speaker_limit_seconds"])
        moderation_log_record(session=locked, actor=by, action="floor.limit", limit_seconds=seconds)
        floor_announce(locked)
    return room


# --- the big screen -------------------------------------------------------------------------

# What the moderator can put on the room's screen (sessions/meeting/projector.py shows it).
SCREENS = ("auto", "vote", "floor", "agenda", "join", "result")


def projector_show(*, session: TopicSession, by: User, screen: str, motion_id: int | None = None) -> MeetingRoom:
    """Switch the big screen, live: every screen showing the room follows at once, and a screen
    that (re)loads shows the same. ``result`` names a closed vote of this session."""
    from agora.infra.broadcast import broadcast_on_commit
    from sessions.live import sources

    require_moderator(user=by, session=session)
    if screen not in SCREENS:
        raise Refused(_("The big screen cannot show that."), code="bad_screen")
    event = None
    if screen == "result":
        event = sources.screen_result(session_id=session.pk, motion_id=motion_id or 0)
        if event is None:
            raise Refused(_("Only the result of a closed vote of this session can be shown."), code="no_result")
    else:
        motion_id = None
    room = meeting_room_ensure(session=session)
    with transaction.atomic():
        lock_session(session)
        room.screen, room.screen_motion_id = screen, motion_id
        room.save(update_fields=["screen", "screen_motion_id"])
        moderation_log_record(session=session, actor=by, action="projector.show", screen=screen, motion_id=motion_id)
        payload = {"screen": screen, "motion_id": motion_id, "sound": room.screen_sound}
        if event is None:
            broadcast_on_commit(projector_group(session.pk), live_event(kind="screen", payload=payload))
        else:
            broadcast_on_commit(projector_group(session.pk), {**event, "kind": "screen", "payload": {**event["payload"], **payload}})
    return room


def projector_sound_set(*, session: TopicSession, by: User, sound: bool) -> MeetingRoom:
    """A sound on the big screen before a speaker's time runs out (the colour warning is always on)."""
    from agora.infra.broadcast import broadcast_on_commit

    require_moderator(user=by, session=session)
    room = meeting_room_ensure(session=session)
    with transaction.atomic():
        lock_session(session)
        room.screen_sound = sound
        room.save(update_fields=["screen_sound"])
        moderation_log_record(session=session, actor=by, action="projector.sound", sound=sound)
        payload = {"screen": room.screen, "motion_id": room.screen_motion_id, "sound": sound, "sound_only": True}
        broadcast_on_commit(projector_group(session.pk), live_event(kind="screen", payload=payload))
    return room
