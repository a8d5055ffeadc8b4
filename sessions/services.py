"""Writes for topic sessions: every state change and every message goes through here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from agora.infra.sanitize import clean_plain_text, clean_rich_text
from agora.roster.audit import audit_record
from agora.roster.models import Community, Tag
from agora.roster.roles import is_moderator
from sessions import rules
from sessions.events import announce, live_event
from sessions.models import (
    AgendaItem,
    AttendanceIntent,
    Message,
    Reaction,
    ReactionKind,
    SessionState,
    SessionTransition,
    TopicSession,
)
from sessions.reactions import reaction_announce_on_commit
from sessions.selectors import message_data
from sessions.slow_mode import slow_mode_check

# The session lifecycle: only these moves exist (PRODUCT.md "A topic session's life").
# ADJOURNED → ARCHIVED happens when the minutes are published.
TRANSITIONS: dict[str, set[str]] = {
    SessionState.DRAFT: {SessionState.SCHEDULED},
    SessionState.SCHEDULED: {SessionState.DRAFT, SessionState.LIVE},
    SessionState.LIVE: {SessionState.ADJOURNED},
    SessionState.ADJOURNED: {SessionState.ARCHIVED},
    SessionState.ARCHIVED: set(),
}


def _require_moderator(*, user: User, community: Community | int) -> None:
    if not is_moderator(user=user, community=community):
        raise NotAllowed(_("Only a moderator of this community can do that."))


def topic_session_create(
    *,
    community: Community,
    by: User,
    title: str,
    starts_at: datetime,
    category: str = "other",
    description: str = "",
    place: str = "",
    audience_tags: Iterable[Tag] = (),
    observers: Iterable[User] = (),
    agenda: Iterable[str] = (),
) -> TopicSession:
    _require_moderator(user=by, community=community)
    title = clean_plain_text(title)
    if not title:
        raise Refused(_("A session needs a title."), code="invalid")
    with transaction.atomic():
        session = TopicSession.objects.create(
            community=community,
            created_by=by,
            title=title,
            category=category,
            description=clean_rich_text(description),
            starts_at=starts_at,
            place=clean_plain_text(place),
        )
        session.audience_tags.set(list(audience_tags))
        session.observers.set(list(observers))
        for position, item in enumerate((a for a in agenda if a.strip()), start=1):
            AgendaItem.objects.create(session=session, position=position, title=clean_plain_text(item))
    return session


def topic_session_update(
    *,
    session: TopicSession,
    by: User,
    title: str,
    starts_at: datetime,
    category: str,
    description: str,
    place: str,
    audience_tags: Iterable[Tag],
    observers: Iterable[User] = (),
) -> TopicSession:
    _require_moderator(user=by, community=session.community_id)
    if session.state in {SessionState.ADJOURNED, SessionState.ARCHIVED}:
        raise Refused(_("A session that has ended can no longer be edited."), code="ended")
    title = clean_plain_text(title)
    if not title:
        raise Refused(_("A session needs a title."), code="invalid")
    with transaction.atomic():
        session.title = title
        session.starts_at = starts_at
        session.category = category
        session.description = clean_rich_text(description)
        session.place = clean_plain_text(place)
        session.save()
        session.audience_tags.set(list(audience_tags))
        session.observers.set(list(observers))
    return session


def _transition(*, session: TopicSession, by: User, to: str) -> TopicSession:
    _require_moderator(user=by, community=session.community_id)
    with transaction.atomic():
        # The move depends on the state just read: lock the row so two moderators can't race.
        locked = TopicSession.objects.select_for_update().get(pk=session.pk)
        if to not in TRANSITIONS[locked.state]:
            raise Refused(
                _("This session is “%(state)s” and cannot move to “%(to)s”.")
                % {"state": locked.get_state_display(), "to": SessionState(to).label},
                code="bad_transition",
            )
        SessionTransition.objects.create(session=locked, from_state=locked.state, to_state=to, by=by)
        audit_record(
            kind="session.transition", community=locked.community_id, actor=by, session_id=locked.pk, from_state=locked.state, to_state=to
        )
        locked.state = to
        locked.save(update_fields=["state", "updated_at"])
        announce(locked.pk, live_event(kind="session.state", payload={"state": to}))
    session.state = locked.state
    return locked


def topic_session_schedule(*, session: TopicSession, by: User) -> TopicSession:
    return _transition(session=session, by=by, to=SessionState.SCHEDULED)


def topic_session_unschedule(*, session: TopicSession, by: User) -> TopicSession:
    return _transition(session=session, by=by, to=SessionState.DRAFT)


def topic_session_open(*, session: TopicSession, by: User) -> TopicSession:
    return _transition(session=session, by=by, to=SessionState.LIVE)


# Adjourning can be undone for this long (the moderator pressed it by mistake, or the room
# wants one more word); after that the minutes may already be written from it.
ADJOURN_UNDO_SECONDS = 300


def topic_session_adjourn(*, session: TopicSession, by: User) -> TopicSession:
    """The move alone. The console adjourns through ``sessions.meeting.console.session_adjourn``,
    which first refuses (or closes) open votes."""
    return _transition(session=session, by=by, to=SessionState.ADJOURNED)


def adjourn_undo_until(*, adjourned_at: datetime | None) -> datetime | None:
    """Until when an adjournment at ``adjourned_at`` can be undone."""
    return adjourned_at + timedelta(seconds=ADJOURN_UNDO_SECONDS) if adjourned_at else None


def topic_session_adjourn_undo(*, session: TopicSession, by: User, now: datetime | None = None) -> TopicSession:
    """Back to live, within ``ADJOURN_UNDO_SECONDS`` of adjourning; logged as a transition and in
    the audit log (``session.adjourn_undone``). Votes closed on adjourning stay closed."""
    _require_moderator(user=by, community=session.community_id)
    now = now or timezone.now()
    with transaction.atomic():
        locked = TopicSession.objects.select_for_update().get(pk=session.pk)
        if locked.state != SessionState.ADJOURNED:
            raise Refused(_("Only an adjourned session can be reopened."), code="bad_transition")
        last = locked.transitions.filter(to_state=SessionState.ADJOURNED).order_by("-at", "-pk").first()
        until = adjourn_undo_until(adjourned_at=last.at if last else None)
        if until is None or now > until:
            raise Refused(
                _("Adjourning can only be undone within %(minutes)d minutes; this session stays adjourned.")
                % {"minutes": ADJOURN_UNDO_SECONDS // 60},
                code="undo_expired",
            )
        SessionTransition.objects.create(session=locked, from_state=locked.state, to_state=SessionState.LIVE, by=by)
        audit_record(
            kind="session.adjourn_undone",
            community=locked.community_id,
            actor=by,
            session_id=locked.pk,
            adjourned_at=last.at.isoformat() if last else "",
        )
        locked.state = SessionState.LIVE
        locked.save(update_fields=["state", "updated_at"])
        announce(locked.pk, live_event(kind="session.state", payload={"state": SessionState.LIVE}))
    session.state = locked.state
    return locked


def topic_session_archive(*, session: TopicSession, by: User) -> TopicSession:
    """Called when the session's minutes are published."""
    return _transition(session=session, by=by, to=SessionState.ARCHIVED)


def attendance_intent_set(*, session: TopicSession, user: User, attending: bool) -> bool:
    if not rules.can_attend(user=user, session=session):
        raise NotAllowed(_("You are not in this session's audience, or it is no longer open."))
    if attending:
        AttendanceIntent.objects.get_or_create(session=session, user=user)
    else:
        AttendanceIntent.objects.filter(session=session, user=user).delete()
    return attending


def _check_rate(*, session: TopicSession, author: User) -> None:
    limit, seconds = settings.AGORA_MESSAGE_RATE
    since = timezone.now() - timedelta(seconds=seconds)
    recent = Message.objects.filter(session=session, author=author, created_at__gte=since).count()
    if recent >= limit:
        raise Refused(
            _("You are sending messages too quickly. Please wait a few seconds and send again."),
            code="rate_limited",
        )


# A message.post idempotency key: as a ballot's (voting/ballots.py KEY_PATTERN).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,100}$")


def _message_by_key(*, session: TopicSession, author: User, idempotency_key: str) -> Message | None:
    return Message.objects.filter(session_id=session.pk, author_id=author.pk, idempotency_key=idempotency_key).first()


def message_post(
    *, session: TopicSession, author: User, text: str, reply_to_id: int | None = None, idempotency_key: str | None = None
) -> Message:
    """Store a message, then (after commit) announce it. Refusals raise :class:`Refused`.

    With an ``idempotency_key`` (one per composed message), a resend of a post already stored —
    the connection dropped before its ack arrived — returns the stored message, with
    ``replayed = True``, and stores nothing: the client gets the same ack again.
    """
    if idempotency_key is not None:
        if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
            raise Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": "idempotency_key"}, code="bad_key")
        existing = _message_by_key(session=session, author=author, idempotency_key=idempotency_key)
        if existing is not None:
            existing.replayed = True
            return existing
    try:
        message = _message_store(session=session, author=author, text=text, reply_to_id=reply_to_id, idempotency_key=idempotency_key or "")
    except IntegrityError:
        # The same key committed by a concurrent resend between our read and our insert.
        existing = _message_by_key(session=session, author=author, idempotency_key=idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        existing.replayed = True
        return existing
    message.replayed = False
    return message


def _message_store(*, session: TopicSession, author: User, text: str, reply_to_id: int | None, idempotency_key: str) -> Message:
    if not rules.can_post(user=author, session=session):
        if rules.is_muted(user=author, session=session):
            raise NotAllowed(_("A moderator has muted you in this session."), code="muted")
        if session.state not in rules.POSTING_STATES:
            raise Refused(_("This session is not open for messages."), code="closed")
        raise NotAllowed(_("You cannot speak in this session."))
    raw = (text or "").strip()
    if not raw:
        raise Refused(_("The message is empty."), code="empty")
    limit = settings.AGORA_MESSAGE_MAX_CHARS
    if len(raw) > limit:
        raise Refused(
            _("The message is too long (%(length)d characters; at most %(limit)d).") % {"length": len(raw), "limit": limit},
            code="too_long",
        )
    cleaned = clean_rich_text(raw)
    if not cleaned.strip():
        raise Refused(_("The message is empty."), code="empty")
    with transaction.atomic():
        # The session row lock orders concurrent posts: sequence numbers have no gaps or repeats.
        locked = TopicSession.objects.select_for_update().get(pk=session.pk)
        if locked.state not in rules.POSTING_STATES:
            raise Refused(_("This session is not open for messages."), code="closed")
        if not rules.can_moderate(user=author, session=locked):
            _check_rate(session=locked, author=author)
            slow_mode_check(session=locked, author=author, now=timezone.now())
        reply_to = None
        if reply_to_id is not None:
            reply_to = Message.objects.filter(session=locked, pk=reply_to_id).first()
            if reply_to is None:
                raise Refused(_("The message you replied to is not in this session."), code="bad_reply")
        locked.last_seq += 1
        locked.save(update_fields=["last_seq"])
        message = Message.objects.create(
            session=locked,
            seq=locked.last_seq,
            author=author,
            text_html=cleaned,
            reply_to=reply_to,
            agenda_item_id=locked.current_agenda_item_id,
            before_start=locked.state == SessionState.SCHEDULED,
            idempotency_key=idempotency_key,
        )
        data = message_data(message)
        announce(
            locked.pk,
            live_event(
                kind="message",
                payload={"seq": message.seq, "id": message.pk},
                template="sessions/partials/_message.html",
                context={"m": data},
            ),
        )
    return message


def reaction_set(*, message_id: int, session: TopicSession, user: User, kind: str | None) -> dict[str, int]:
    """Agree / disagree with a message (one reaction per person; None takes it back)."""
    if not rules.can_post(user=user, session=session):
        raise NotAllowed(_("You cannot react in this session."))
    if kind is not None and kind not in ReactionKind.values:
        raise Refused(_("Unknown reaction."), code="invalid")
    with transaction.atomic():
        message = Message.objects.filter(session=session, pk=message_id, hidden=False).first()
        if message is None:
            raise Refused(_("That message is not in this session."), code="not_found")
        if kind is None:
            Reaction.objects.filter(message=message, user=user).delete()
        else:
            Reaction.objects.update_or_create(message=message, user=user, defaults={"kind": kind})
        counts = {"agree": 0, "disagree": 0}
        for k in Reaction.objects.filter(message=message).values_list("kind", flat=True):
            counts[k] += 1
        # Coalesced: a burst of reactions is a few frames with the counts, not one per click.
        reaction_announce_on_commit(session_id=session.pk, message_id=message.pk, counts=counts)
    return counts
