"""What the meeting panel of the session page shows (registered in sessions/panels.py).

Reads only. The room (join code, check-in and projector secrets) exists from the moment the
session leaves draft (``sessions.meeting.rooms``), so a resident's GET never creates it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sessions.meeting import selectors
from sessions.models import MeetingRoom, SessionState, TopicSession
from sessions.slow_mode import SLOW_MODE_CHOICES

SPEAKER_LIMIT_CHOICES = (0, 60, 120, 180, 300, 600)
# What the moderator can put on the big screen from the console (a result: from its vote's card).
SCREEN_CHOICES = (
    ("auto", _("Automatic")),
    ("vote", _("Current vote")),
    ("floor", _("Speakers and timer")),
    ("agenda", _("Agenda")),
    ("join", _("Join code and QR")),
)


def meeting_context(*, request: HttpRequest, session: TopicSession, moderator: bool, can_post: bool) -> dict[str, Any] | None:
    """The floor, the agenda, the join code and (moderators) the tools; None when there is no meeting to show."""
    state = session.state
    is_open = state in (SessionState.SCHEDULED, SessionState.LIVE)
    if not (is_open or (moderator and state != SessionState.DRAFT)):
        return None
    user = request.user
    room = MeetingRoom.objects.filter(session_id=session.pk).first()
    floor = selectors.floor_data(session=session)
    out: dict[str, Any] = {
        "is_moderator_view": moderator,
        "viewer_role": "moderator" if moderator else "participant",
        "live": state == SessionState.LIVE,
        "open": is_open,
        "room": room,
        "floor": floor,
        "agenda_data": selectors.agenda_data(session=session),
        "hand_raised": bool(user.pk in floor["queue_user_ids"]),
        "can_raise_hand": can_post and state == SessionState.LIVE,
    }
    if room is not None:
        out.update(join_url=request.build_absolute_uri(selectors.join_path(room)), join_qr=selectors.join_qr_path(room))
    if moderator:
        out.update(
            summary=selectors.attendance_summary(session),
            restricted=selectors.restricted_participants(session=session),
            slow_mode_choices=SLOW_MODE_CHOICES,
            speaker_limit_choices=[(s, s // 60) for s in SPEAKER_LIMIT_CHOICES],
            checkin_qr=reverse("topic_sessions:meeting_checkin_qr", kwargs={"session_id": session.pk}),
            screen_choices=SCREEN_CHOICES,
        )
        if room is not None:
            out.update(
                projector_url=request.build_absolute_uri(selectors.projector_path(room)),
                checkin_url=request.build_absolute_uri(selectors.checkin_path(room)),
            )
    return out
