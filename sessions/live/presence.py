"""Opening and closing live connections: who may connect, and who is here now."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.broadcast import broadcast_now
from agora.errors import NotAllowed
from agora.models import Resident
from agora.roles import AnyUser, community_role
from sessions import rules
from sessions.live.events import live_event, session_group
from sessions.meeting.attendance import attendance_online_mark
from sessions.models import Presence, TopicSession
from sessions.selectors import presence_snapshot


@dataclass(frozen=True)
class LiveContext:
    session_id: int
    community_id: int
    user_id: int
    role: str  # "moderator", "observer" or "resident"
    can_moderate: bool

    @property
    def variant(self) -> str:
        """The rendering variant: moderators see moderation controls, everyone else the same page."""
        return "moderator" if self.can_moderate else "participant"


def live_connect(*, session_id: int, user: AnyUser, channel_name: str) -> LiveContext:
    """Admit a connection (or raise NotAllowed) and record it as present."""
    session = TopicSession.objects.filter(pk=session_id).first()
    if session is None or not rules.can_join_live(user=user, session=session):
        raise NotAllowed(_("You cannot join this session."))
    building = (
        Resident.objects.filter(user=user, community_id=session.community_id)
        .values_list("household__building__name", flat=True)
        .first()
    ) or ""
    # A channel name is new for every connection: one INSERT, not a SELECT and a savepoint first.
    Presence.objects.create(channel_name=channel_name, session=session, user=user, building=building, last_seen=timezone.now())
    attendance_online_mark(session=session, user=user)
    can_moderate = rules.can_moderate(user=user, session=session)
    role = "moderator" if can_moderate else (community_role(user=user, community=session.community_id) or "observer")
    if not can_moderate and rules.is_invited_observer(user=user, session=session) and not rules.in_audience(
        user=user, session=session
    ):
        role = "observer"
    return LiveContext(session.pk, session.community_id, user.pk, role, can_moderate)


def live_disconnect(*, channel_name: str) -> None:
    Presence.objects.filter(channel_name=channel_name).delete()


def live_heartbeat(*, channel_name: str) -> None:
    Presence.objects.filter(channel_name=channel_name).update(last_seen=timezone.now())


def presence_announce(*, session_id: int) -> None:
    """Tell the room who is here now (called coalesced, not once per connection)."""
    snapshot = presence_snapshot(session_id=session_id)
    broadcast_now(
        session_group(session_id),
        live_event(
            kind="presence",
            payload={"count": snapshot["count"], "by_building": snapshot["by_building"]},
            template="sessions/partials/_presence.html",
            context={"presence": snapshot},
        ),
    )
