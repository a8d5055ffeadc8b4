"""Reads for topic sessions: what pages and live frames show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agora.roster.models import Community, Membership, Resident, Role
from agora.roster.names import display_name
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.models import Message, Presence, Reaction, SessionState, TopicSession


def author_labels(*, community_id: int, user_ids: set[int]) -> dict[int, dict[str, str]]:
    """Display name, building and community role of each author, in three queries."""
    from django.contrib.auth import get_user_model

    labels: dict[int, dict[str, str]] = {}
    for user in get_user_model().objects.filter(pk__in=user_ids):
        labels[user.pk] = {"name": display_name(user), "building": "", "role": ""}
    for user_id, building in Resident.objects.filter(community_id=community_id, user_id__in=user_ids).values_list(
        "user_id", "household__building__name"
    ):
        labels[user_id]["building"] = building
        labels[user_id]["role"] = Role.RESIDENT
    for user_id, role in Membership.objects.filter(community_id=community_id, user_id__in=user_ids).values_list("user_id", "role"):
        labels[user_id]["role"] = role
    return labels


def messages_data(messages: list[Message]) -> list[dict[str, Any]]:
    """Everything message fragments show, as plain JSON-safe data (page and live alike)."""
    if not messages:
        return []
    community_id = messages[0].session.community_id
    authors = {m.author_id for m in messages} | {m.reply_to.author_id for m in messages if m.reply_to}
    labels = author_labels(community_id=community_id, user_ids=authors)
    counts: dict[int, dict[str, int]] = {m.pk: {"agree": 0, "disagree": 0} for m in messages}
    for row in Reaction.objects.filter(message__in=[m.pk for m in messages]).values("message_id", "kind").annotate(n=Count("pk")):
        counts[row["message_id"]][row["kind"]] = row["n"]
    return [_message_dict(m, labels, counts[m.pk]) for m in messages]


def message_data(message: Message) -> dict[str, Any]:
    return messages_data([message])[0]


def _message_dict(message: Message, labels: dict[int, dict[str, str]], counts: dict[str, int]) -> dict[str, Any]:
    label = labels[message.author_id]
    reply = None
    if message.reply_to is not None:
        quoted = message.reply_to
        reply = {
            "id": quoted.pk,
            "seq": quoted.seq,
            "author_name": labels[quoted.author_id]["name"],
            "hidden": quoted.hidden,
            # A hidden message's words never travel in a reply's data (to anyone, in any frame).
            "excerpt_html": quoted.text_html if len(quoted.text_html) <= 200 and not quoted.hidden else "",
        }
    return {
        "id": message.pk,
        "seq": message.seq,
        "session_id": message.session_id,
        "author_id": message.author_id,
        "author_name": label["name"],
        "author_building": label["building"],
        "author_role": label["role"],
        "text_html": message.text_html,
        "reply_to": reply,
        "created_at": message.created_at.isoformat(),
        "agree": counts["agree"],
        "disagree": counts["disagree"],
        "pinned": message.pinned,
        "hidden": message.hidden,
        "hidden_reason": message.hidden_reason,
        "before_start": message.before_start,
        "agenda_item_id": message.agenda_item_id,
    }


def messages_after(*, session: TopicSession, after_seq: int, limit: int = 500) -> list[dict[str, Any]]:
    rows = list(Message.objects.filter(session=session, seq__gt=after_seq).select_related("session", "reply_to").order_by("seq")[:limit])
    return messages_data(rows)


# The session page shows the latest messages; earlier ones come a page at a time (a link, or the
# live page's button that fetches the same link). The page's size and render time do not grow
# with the history (bench/history.py, docs/performance.md "Session page history").
HISTORY_PAGE = 80


def messages_page(*, session: TopicSession, before_seq: int | None = None, limit: int = HISTORY_PAGE) -> dict[str, Any]:
    """The ``limit`` messages before ``before_seq`` (the latest ones when None), oldest first, with
    whether earlier ones exist and the session's latest sequence number."""
    rows = Message.objects.filter(session=session).select_related("session", "reply_to").order_by("-seq")
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    window = list(rows[: limit + 1])
    earlier = len(window) > limit
    window = window[:limit]
    window.reverse()
    if before_seq is None:
        latest = window[-1].seq if window else 0
    else:
        latest = Message.objects.filter(session=session).order_by("-seq").values_list("seq", flat=True).first() or 0
    return {
        "messages": messages_data(window),
        "earlier_before": window[0].seq if window and earlier else None,
        "latest_seq": latest,
    }


def replies_data(*, message: Message) -> list[dict[str, Any]]:
    """The messages that quote ``message``, as ``messages_data``: re-rendered when it is hidden or shown."""
    rows = list(
        Message.objects.filter(session_id=message.session_id, reply_to=message).select_related("session", "reply_to").order_by("seq")
    )
    return messages_data(rows)


def visible_sessions(*, user: AnyUser) -> QuerySet[TopicSession]:
    """Sessions the user may see: their communities' sessions, drafts only for moderators."""
    if not user.is_authenticated:
        return TopicSession.objects.none()
    if user.is_superuser:
        return TopicSession.objects.all()
    moderated = Community.objects.filter(memberships__user=user, memberships__role=Role.MODERATOR)
    member_of = Community.objects.filter(Q(memberships__user=user) | Q(residents__user=user)).distinct()
    candidates = TopicSession.objects.filter(
        Q(community__in=moderated)
        | Q(community__in=member_of, state__in=rules.VISIBLE_STATES)
        | Q(observers=user, state__in=rules.VISIBLE_STATES)
    ).distinct()
    # Audience tags are per resident: filter in Python over a community-scoped set.
    return TopicSession.objects.filter(pk__in=[s.pk for s in candidates if rules.can_view(user=user, session=s)])


def session_lists(*, user: AnyUser) -> dict[str, list[TopicSession]]:
    qs = visible_sessions(user=user).select_related("community").prefetch_related("audience_tags")
    lists: dict[str, list[TopicSession]] = {"live": [], "upcoming": [], "past": [], "drafts": []}
    for s in qs.order_by("starts_at"):
        if s.state == SessionState.LIVE:
            lists["live"].append(s)
        elif s.state == SessionState.SCHEDULED:
            lists["upcoming"].append(s)
        elif s.state == SessionState.DRAFT:
            lists["drafts"].append(s)
        else:
            lists["past"].insert(0, s)
    return lists


def presence_snapshot(*, session_id: int) -> dict[str, Any]:
    """Who is here now: distinct people with a fresh connection, in total and by building."""
    fresh = timezone.now() - timedelta(seconds=settings.AGORA_PRESENCE_STALE_SECONDS)
    rows = Presence.objects.filter(session_id=session_id, last_seen__gte=fresh).values_list("user_id", "building").distinct()
    people: dict[int, str] = {}
    for user_id, building in rows:
        people.setdefault(user_id, building)
    by_building: dict[str, int] = {}
    for building in people.values():
        key = building or ""
        by_building[key] = by_building.get(key, 0) + 1
    return {
        "count": len(people),
        "by_building": [{"building": b, "count": n} for b, n in sorted(by_building.items())],
    }
