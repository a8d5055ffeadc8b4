"""Opening and closing live connections: who may connect, and who is here now."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.broadcast import broadcast_now
from agora.infra.errors import NotAllowed
from agora.roster.roles import AnyUser
from sessions.admission import live_admission
from sessions.events import live_event, session_group
from sessions.live import sources
from sessions.models import Presence
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
    """Admit a connection (or raise NotAllowed) and record it as present.

    Three statements: the admission facts in one query (sessions/admission.py), the presence
    row, and what the meeting adds (its attendance mark, sessions/live/sources.py).
    """
    admission = live_admission(user=user, session_id=session_id)
    if admission is None or not isinstance(user, User):  # admission needs an account (sessions/admission.py)
        raise NotAllowed(_("You cannot join this session."))
    # A channel name is new for every connection: one INSERT, not a SELECT and a savepoint first.
    Presence.objects.create(
        channel_name=channel_name, session_id=admission.session_id, user=user, building=admission.building, last_seen=timezone.now()
    )
    sources.connection_admitted(session_id=admission.session_id, state=admission.state, user=user)
    return LiveContext(admission.session_id, admission.community_id, user.pk, admission.role, admission.can_moderate)


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
