"""``{% meeting_panel %}``: the running-meeting panels on the session page (sessions/meeting)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from sessions import rules
from sessions.meeting import selectors, services
from sessions.models import SessionState, TopicSession
from sessions.slow_mode import SLOW_MODE_CHOICES

register = template.Library()

SPEAKER_LIMIT_CHOICES = (0, 60, 120, 180, 300, 600)


@register.inclusion_tag("sessions/meeting/_panel.html", takes_context=True)
def meeting_panel(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    session: TopicSession = context["session"]
    user = request.user
    moderator = rules.can_moderate(user=user, session=session)
    out: dict[str, Any] = {
        "session": session,
        "user": user,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "is_moderator_view": moderator,
        "viewer_role": "moderator" if moderator else "participant",
        "show": session.state in (SessionState.SCHEDULED, SessionState.LIVE) or (moderator and session.state != SessionState.DRAFT),
        "live": session.state == SessionState.LIVE,
        "open": session.state in (SessionState.SCHEDULED, SessionState.LIVE),
    }
    if not out["show"]:
        return out
    room = services.meeting_room_ensure(session=session)
    join_url = request.build_absolute_uri(selectors.join_path(room))
    floor = selectors.floor_data(session=session)
    out.update(
        room=room,
        join_url=join_url,
        join_qr=selectors.join_qr_path(room),
        floor=floor,
        agenda_data=selectors.agenda_data(session=session),
        hand_raised=bool(user.pk in floor["queue_user_ids"]),
        can_raise_hand=rules.can_post(user=user, session=session) and session.state == SessionState.LIVE,
    )
    if moderator:
        checkin_url = request.build_absolute_uri(selectors.checkin_path(room))
        out.update(
            projector_url=request.build_absolute_uri(selectors.projector_path(room)),
            checkin_url=checkin_url,
            checkin_qr=reverse("topic_sessions:meeting_checkin_qr", kwargs={"session_id": session.pk}),
            summary=selectors.attendance_summary(session),
            restricted=selectors.restricted_participants(session=session),
            slow_mode_choices=SLOW_MODE_CHOICES,
            speaker_limit_choices=[(s, s // 60) for s in SPEAKER_LIMIT_CHOICES],
        )
    return out


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as m:ss (the sign is shown by the words around it)."""
    if seconds is None:
        return ""
    seconds = abs(int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
